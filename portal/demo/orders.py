"""Demo orders: the demo pharmacy's order history in every status, made through the same
services a buyer and a manager use (stock reserved, shipments charged to the ledger), then
dated back so the timeline reads like a real month."""

import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select

from portal import calendar_ru, clock
from portal.accounts.models import User
from portal.billing import terms as payment_terms
from portal.billing.ledger import LedgerEntry
from portal.billing.models import Shipment
from portal.billing.texts import LedgerText, set_text
from portal.catalog.models import Item
from portal.extensions import db
from portal.inventory.models import Stock
from portal.inventory.warehouses import serving_warehouse
from portal.notifications.models import Notification
from portal.orders import cart, checkout, workflow
from portal.orders.models import Order, OrderStatus, PaymentTerms

# (days ago, status reached, payment terms, packs per line, comment)
ORDERS = [
    # Shipped ~37 days ago on deferred payment: a week overdue (see _days_ago_to_be_overdue), so the
    # receivables report and a payment reminder have something to show.
    (40, OrderStatus.DELIVERED, PaymentTerms.DEFERRED, [6, 12], ""),
    (24, OrderStatus.DELIVERED, PaymentTerms.DEFERRED, [20, 10, 30], ""),
    (9, OrderStatus.DELIVERED, PaymentTerms.PREPAYMENT, [12, 6], ""),
    (4, OrderStatus.SHIPPED, PaymentTerms.DEFERRED, [15, 10, 4], "Доставка до 14:00"),
    (2, OrderStatus.CONFIRMED, PaymentTerms.DEFERRED, [8, 24], ""),
    (0, OrderStatus.NEW, PaymentTerms.PREPAYMENT, [5, 10], ""),
]
PATH = [OrderStatus.CONFIRMED, OrderStatus.ASSEMBLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]


def seed():
    # Order services build links (e-mail, notifications) with url_for: a request context.
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        _seed()


def _seed():
    users = {u.login: u for u in db.session.scalars(select(User))}
    buyer, manager = users.get("buyer"), users.get("manager")
    if buyer is None or manager is None or not buyer.active_memberships:
        return
    pharmacy = buyer.active_memberships[0].organisation
    if db.session.scalar(select(Order.id).where(Order.organisation_id == pharmacy.id).limit(1)):
        return
    address = next((a for a in pharmacy.addresses if a.is_default), None)
    if address is None:
        return
    # Single packs well in stock at the pharmacy's warehouse, a different few for each order.
    warehouse = serving_warehouse(pharmacy)
    items = iter(
        db.session.scalars(
            select(Item)
            .join(Stock, Stock.item_id == Item.id)
            .where(Stock.warehouse_id == warehouse.id, Stock.quantity >= 100)
            .where(Item.is_active.is_(True), Item.order_multiple == 1, Item.min_quantity == 1)
            .order_by(Item.sku)
        ).all()[::3]
    )
    first_notification = db.session.scalar(select(func.max(Notification.id))) or 0
    for index, (days_ago, status, terms, lines, comment) in enumerate(ORDERS):
        if index == 0:
            days_ago = _days_ago_to_be_overdue(pharmacy)
        cart.clear_cart(buyer.id, pharmacy.id)
        for packs, item in zip(lines, items, strict=False):
            cart.add_to_cart(buyer.id, pharmacy, item.id, packs)
        order, _created = checkout.place_order(
            buyer,
            pharmacy,
            address_id=address.id,
            payment_terms=terms,
            comment=comment,
            idempotency_key=secrets.token_hex(16),
        )
        # Dated back before it moves on: the shipment's УПД prints the order's date and is
        # dated with the day the order shipped (its number and figures never change later).
        placed = _placed(days_ago)
        order.created_at = placed
        shipped_on = min(placed + timedelta(days=3, hours=2), _now()).date()
        for step in PATH[: PATH.index(status) + 1] if status != OrderStatus.NEW else []:
            workflow.change_status(order, step, manager, shipped_on=shipped_on)
        _date_back(order, days_ago)
    # The buyer has read about the older orders; the last few notices are still new.
    seeded = db.session.scalars(
        select(Notification)
        .where(Notification.id > first_notification, Notification.user_id == buyer.id)
        .order_by(Notification.id.desc())
    ).all()
    for notification in seeded[3:]:
        notification.read_at = _now()
    db.session.flush()


def _date_back(order: Order, days_ago: int) -> None:
    """Placed `days_ago` at 10:00 Moscow time, each later step a day after the previous."""
    placed = _placed(days_ago)
    order.created_at = placed
    for step, event in enumerate(sorted(order.events, key=lambda e: e.id)):
        event.at = min(placed + timedelta(days=step, hours=step and 2), _now())
    # Order numbers begin with the year and month the order was placed in; the УПД and its
    # ledger charge carry the same number.
    number = f"{placed:%y%m}-{order.id:06d}"
    shipped_on = next(
        (e.at.date() for e in order.events if e.status == OrderStatus.SHIPPED.value), None
    )
    if shipped_on:
        shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
        if shipment is not None:
            shipment.number, shipment.shipment_date = number, shipped_on
        for entry in db.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.source_type == "order", LedgerEntry.source_id == order.id
            )
        ):
            entry.entry_date = shipped_on
            entry.document_number = number
            set_text(
                entry,
                LedgerText(
                    "shipment", document=number, date=f"{shipped_on:%d.%m.%Y}", order=number
                ),
            )
    if order.number != number:
        # The notices sent while the order moved name it by the number it had then.
        for notice in db.session.scalars(
            select(Notification).where(Notification.title.contains(order.number))
        ):
            notice.title = notice.title.replace(order.number, number)
    order.number = number


def _days_ago_to_be_overdue(organisation) -> int:
    """How long ago the first order is placed (it ships 3 days later, on deferred payment) so
    that its due date is a working day a reminder day (7 days, else 1, 14 or 30) before today:
    a due date that falls on a day off moves to the next working day, which would leave the
    report and the reminder without their overdue document on some days of the week."""
    today = clock.local_today()
    for late in (7, 1, 14, 30):
        if calendar_ru.is_working_day(today - timedelta(days=late)):
            return 3 + payment_terms.deferral_days(organisation) + late
    return 40


def _placed(days_ago: int) -> datetime:
    return datetime.combine(
        clock.local_today() - timedelta(days=days_ago), datetime.min.time(), timezone.utc
    ) + timedelta(hours=7)


def _now() -> datetime:
    return datetime.now(timezone.utc)
