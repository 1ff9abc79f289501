"""A 1,000-line order placed through POST /api/v1/orders on PostgreSQL: time, queries, memory.

    .venv/bin/python bench/api_orders.py [--lines 1000] [--runs 7] \
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throwaway database on that server (dropped at the end) with the schema, one
pharmacy with price terms and a key (order + view_prices), `--lines` items with base prices,
stock and batches (every tenth on promotion, VAT categories mixed). Each run places one
order of all the items (2 packs each) with a fresh Idempotency-Key through the application's
WSGI stack in this process (JSON parsing, validation, the key, the cart's and checkout's
rules, stock reservation, the stored answer); the first run warms up and is not counted.
Prints p50/min/max of the request time, the SQL statements per order and the peak Python
memory of one request (tracemalloc). Also times a dry run of the same lines.
"""

import argparse
import statistics
import sys
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def throwaway(server: str):
    base = make_url(server)
    name = f"portal_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def prepare(lines: int):
    from portal.accounts.models import User
    from portal.api import keys
    from portal.billing.tax import ensure_statutory_rates
    from portal.catalog.models import Item, ItemPrice, OrganisationPricing, PriceList, Promotion
    from portal.inventory.models import Batch, Stock, Warehouse
    from portal.organisations.models import (
        DeliveryAddress,
        Membership,
        Organisation,
        Power,
    )

    db.create_all()
    ensure_statutory_rates()
    warehouse = Warehouse(
        code="MSK", name="Склад Москва", region="Москва", lead_time_days=1, is_central=True
    )
    prices = PriceList(code="BASE", name="Базовый", is_base=True)
    organisation = Organisation(
        legal_name='ООО "Бенч"', inn="7728168971", kind="pharmacy", region="Москва"
    )
    organisation.addresses.append(
        DeliveryAddress(address="Москва, ул. Бенч, 1", region="Москва", is_default=True)
    )
    user = User(login="bench.api", email="bench.api@example.org", full_name="Бенч API")
    user.set_password("Bench-api-orders-2026")
    db.session.add_all([warehouse, prices, organisation, user])
    db.session.flush()
    db.session.add(OrganisationPricing(organisation_id=organisation.id, discount_percent=5))
    membership = Membership(user=user, organisation=organisation)
    from portal.organisations.models import ALL_POWERS

    membership.powers = ALL_POWERS
    db.session.add(membership)
    items = []
    for n in range(lines):
        item = Item(
            sku=f"B{n:06d}",
            trade_name=f"Бенч-товар {n}",
            dosage_form="таблетки",
            strength="500 мг",
            pack_size=10,
            vat_category=("reduced", "general")[n % 2],
            min_quantity=1,
            order_multiple=1,
        )
        item.refresh_search_text()
        items.append(item)
    db.session.add_all(items)
    db.session.flush()
    today = date.today()
    for n, item in enumerate(items):
        db.session.add(
            ItemPrice(price_list_id=prices.id, item_id=item.id, price=Decimal(100 + n % 50))
        )
        db.session.add(Stock(item_id=item.id, warehouse_id=warehouse.id, quantity=1_000_000))
        db.session.add(
            Batch(
                item_id=item.id,
                warehouse_id=warehouse.id,
                series=f"S{n}",
                expires_on=today + timedelta(days=400),
                quantity=1_000_000,
            )
        )
        if n % 10 == 0:
            db.session.add(
                Promotion(
                    item_id=item.id,
                    title=f"Акция {n}",
                    discount_percent=Decimal("10"),
                    starts_on=today - timedelta(days=1),
                    ends_on=today + timedelta(days=10),
                )
            )
    db.session.flush()
    _key, token = keys.create_key(membership, name="bench", powers=[Power.ORDER, Power.VIEW_PRICES])
    db.session.commit()
    return token, [item.sku for item in items]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url, drop = throwaway(args.server)
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-api-orders",
                "API_RATE_LIMIT": "100000 per minute",
                "MAIL_OUTBOX": None,
            }
        )
        with app.app_context():
            token, skus = prepare(args.lines)
            statements = []
            event.listen(
                db.engine,
                "before_cursor_execute",
                lambda _c, _cur, sql, *_a: statements.append(" ".join(sql.split()[:3])),
            )
        body = {
            "lines": [{"sku": sku, "quantity": 2} for sku in skus],
            "payment_terms": "prepayment",
        }
        client = app.test_client(use_cookies=False)
        headers = {"Authorization": f"Bearer {token}"}

        def place(dry=False):
            statements.clear()
            started = time.perf_counter()
            response = client.post(
                "/api/v1/orders" + ("?dry_run=true" if dry else ""),
                json=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            elapsed = time.perf_counter() - started
            expected = 200 if dry else 201
            if response.status_code != expected:
                sys.exit(f"unexpected {response.status_code}: {response.get_data()[:500]!r}")
            return elapsed, len(statements), response

        place()  # warm-up
        times, counts = [], []
        for _ in range(args.runs):
            elapsed, count, response = place()
            last_statements = list(statements)
            times.append(elapsed)
            counts.append(count)
        tracemalloc.start()
        place()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        dry_times = [place(dry=True)[0] for _ in range(3)]
        order = response.get_json()
        print(f"lines per order: {len(order['lines'])}, total {order['total']} RUB")
        print(
            f"place (201): p50 {statistics.median(times) * 1000:.0f} ms, "
            f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"over {args.runs} runs"
        )
        print(f"SQL statements per order: {statistics.median(counts):.0f}")
        kinds = Counter(last_statements)
        print("  most frequent:", ", ".join(f"{k!r} ×{n}" for k, n in kinds.most_common(4)))
        print(f"peak Python memory of one order request: {peak / 1_048_576:.1f} MiB")
        print(f"dry run (200): p50 {statistics.median(dry_times) * 1000:.0f} ms")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
