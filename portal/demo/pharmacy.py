"""Demo series and a recall: batches know when they were made (the share of shelf life left),
the demo pharmacy has a shipped order whose lines carry series, and one of them is recalled
with a (sample) regulator's letter. Everything goes through the pharmacy services."""

import io
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import clock
from portal.accounts.models import User
from portal.catalog.models import Item
from portal.extensions import db
from portal.inventory.models import Batch, Stock
from portal.inventory.warehouses import serving_warehouse
from portal.orders import cart, checkout, workflow
from portal.orders.models import OrderStatus, PaymentTerms
from portal.pharmacy import recalls, series
from portal.pharmacy.models import SeriesRecall

# The demo batches were made this long before they expire (three years of shelf life).
BATCH_AGE_DAYS = 120
COMMENT = "Демо: заказ с сериями"
LETTER = "№ 01и-2145/26 от 01.12.2026"
REASON = "Несоответствие требованиям нормативной документации по показателю «Описание»."


def seed():
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        _seed()


def _seed():
    # A distributor's stock is mostly fresh: made about four months ago, so only the batches
    # close to their expiry are short-dated in the catalogue.
    made = clock.local_today() - timedelta(days=BATCH_AGE_DAYS)
    for batch in db.session.scalars(select(Batch).where(Batch.manufactured_on.is_(None))):
        batch.manufactured_on = min(made, batch.expires_on - timedelta(days=1))
    users = {u.login: u for u in db.session.scalars(select(User))}
    buyer, manager = users.get("buyer"), users.get("manager")
    if buyer is None or manager is None or not buyer.active_memberships:
        return
    if db.session.scalar(select(SeriesRecall.id).limit(1)) is not None:
        return
    pharmacy = buyer.active_memberships[0].organisation
    address = next((a for a in pharmacy.addresses if a.is_default), None)
    warehouse = serving_warehouse(pharmacy)
    if address is None or warehouse is None:
        return
    # Two items with at least two series on the pharmacy's warehouse shelf.
    items = db.session.scalars(
        select(Item)
        .join(Stock, Stock.item_id == Item.id)
        .where(Stock.warehouse_id == warehouse.id, Stock.quantity >= 50)
        .where(Item.is_active.is_(True), Item.order_multiple == 1, Item.min_quantity == 1)
        .order_by(Item.sku.desc())
        .limit(2)
    ).all()
    if len(items) < 2:
        return
    cart.clear_cart(buyer.id, pharmacy.id)
    for item in items:
        cart.add_to_cart(buyer.id, pharmacy, item.id, 6)
    order, _created = checkout.place_order(
        buyer,
        pharmacy,
        address_id=address.id,
        payment_terms=PaymentTerms.PREPAYMENT,
        comment=COMMENT,
        idempotency_key=secrets.token_hex(16),
    )
    for step in (OrderStatus.CONFIRMED, OrderStatus.ASSEMBLING):
        workflow.change_status(order, step, manager)
    today = clock.local_today()
    first, second = order.lines
    rows = {
        first.id: [
            {
                "series": "DM2611A",
                "expires_on": f"{today + timedelta(days=700):%d.%m.%Y}",
                "quantity": "4",
                "declaration": "ЕАЭС N RU Д-RU.РА01.В.12345/26",
            },
            {
                "series": "DM2611B",
                "expires_on": f"{today + timedelta(days=400):%d.%m.%Y}",
                "quantity": "2",
                "declaration": "ЕАЭС N RU Д-RU.РА01.В.12346/26",
            },
        ],
        second.id: [
            {
                "series": "DM2612R",
                "expires_on": f"{today + timedelta(days=500):%d.%m.%Y}",
                "quantity": "6",
                "declaration": "ЕАЭС N RU Д-RU.РА01.В.22001/26",
            },
        ],
    }
    series.record_line_series(order, rows, manager)
    workflow.change_status(order, OrderStatus.SHIPPED, manager)
    from portal.reports.pdf import render_pdf

    recalled_item = db.session.get(Item, second.item_id)
    pdf = render_pdf(
        "pharmacy/recall_letter_demo_pdf.html",
        number=LETTER,
        item=recalled_item,
        series="DM2612R",
        reason=REASON,
    )
    recalls.record_recall(
        sku=recalled_item.sku,
        series="DM2612R",
        kind="recalled",
        letter_number=LETTER,
        reason=REASON,
        letter_file=FileStorage(io.BytesIO(pdf), filename="letter-01i-2145.pdf"),
        staff_user=manager,
    )
    db.session.flush()
