"""A 1,000-line XLSX order file into the cart through the real upload route.

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_cart_file.py [--lines 1000] [--repeat 5]

The demo buyer signs in with Flask's test client (real session, real CSRF token) and POSTs an
XLSX of `Код | Количество` (SKUs and barcodes mixed, as an ERP export would) to /cart/upload.
The time is the whole request: reading the workbook, matching codes, checking minimum,
multiple and stock per line, writing 1,000 cart lines and committing. The cart is emptied
before each repetition.
"""

import argparse
import io
import re
import statistics
import sys
import time
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_common import DEMO_PASSWORD, database_url  # noqa: E402
from sqlalchemy import delete, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.catalog.models import Item  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.inventory.models import Stock  # noqa: E402
from portal.inventory.warehouses import serving_warehouse  # noqa: E402
from portal.orders.models import CartLine  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def order_file(app, lines: int) -> tuple[bytes, int, int]:
    """An XLSX with `lines` orderable items of the buyer's warehouse; returns (data, user, org)."""
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.login == "buyer"))
        organisation = buyer.memberships[0].organisation
        warehouse = serving_warehouse(organisation)
        rows = db.session.execute(
            select(Item.sku, Item.barcode, Item.order_multiple)
            .join(Stock, Stock.item_id == Item.id)
            .where(
                Stock.warehouse_id == warehouse.id,
                Stock.quantity >= Item.order_multiple * 3,
                Item.is_active.is_(True),
            )
            .order_by(Item.id)
            .limit(lines)
        ).all()
        if len(rows) < lines:
            sys.exit(f"Only {len(rows)} orderable items; run bench/catalog_generate.py first.")
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["Код", "Наименование", "Количество"])
        for index, (sku, barcode, multiple) in enumerate(rows):
            code = barcode if index % 3 == 0 else sku
            sheet.append([code, f"позиция {index + 1}", multiple * (1 + index % 3)])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), buyer.id, organisation.id


def sign_in(client):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "login": "buyer",
            "password": DEMO_PASSWORD,
        },
    )
    assert response.status_code == 302, response.status_code
    offer = client.get("/offer")
    if offer.status_code == 200:  # a fresh database: accept the offer agreement once
        token = CSRF.search(offer.get_data(as_text=True)).group(1)
        client.post("/offer", data={"csrf_token": token, "accept": "y"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    database_url()
    app = create_app()
    data, user_id, organisation_id = order_file(app, args.lines)
    client = app.test_client()
    sign_in(client)
    timings = []
    for _ in range(args.repeat):
        with app.app_context():
            db.session.execute(
                delete(CartLine).where(
                    CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
                )
            )
            db.session.commit()
        page = client.get("/cart/upload").get_data(as_text=True)
        token = CSRF.search(page).group(1)
        began = time.perf_counter()
        response = client.post(
            "/cart/upload",
            data={
                "csrf_token": token,
                "file": (io.BytesIO(data), "order.xlsx"),
                "code_column": "",
                "quantity_column": "",
            },
            content_type="multipart/form-data",
        )
        timings.append(time.perf_counter() - began)
        with app.app_context():
            in_cart = len(
                db.session.scalars(
                    select(CartLine.id).where(
                        CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
                    )
                ).all()
            )
        if response.status_code != 302 or in_cart != args.lines:
            sys.exit(f"upload failed: HTTP {response.status_code}, {in_cart} lines in the cart")
    with app.app_context():
        db.session.execute(
            delete(CartLine).where(
                CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
            )
        )
        db.session.commit()
    print(f"order file: {args.lines} lines, {len(data) / 1024:.0f} KB XLSX (SKUs and barcodes)")
    print("upload -> cart, seconds per run: " + ", ".join(f"{t:.2f}" for t in timings))
    print(
        f"median {statistics.median(timings):.2f} s, best {min(timings):.2f} s, "
        f"worst {max(timings):.2f} s; every run put all {args.lines} lines in the cart"
    )


if __name__ == "__main__":
    main()
