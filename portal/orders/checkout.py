"""Checkout: the cart (or the API's lines) becomes an order, with stock reserved, credit
checked and the confirmation mailed after the commit.

The summary of what is ordered (lines, prices, totals, VAT by rate, warehouse) is computed
once, by `portal.orders.cart.summarise_cart` or `summarise_lines`, and passed on: to the
checkout page, to the order's rows and to the confirmation e-mail.
"""

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from portal import billing
from portal.api import webhooks
from portal.errors import UserError
from portal.extensions import db
from portal.inventory import delivery
from portal.inventory import stock as inventory
from portal.inventory.warehouses import serving_warehouse
from portal.money import to_money
from portal.orders import confirmation
from portal.orders.cart import clear_cart, summarise_cart
from portal.orders.models import (
    OPEN_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentTerms,
)
from portal.organisations.models import DeliveryAddress, Organisation

# --- checkout -------------------------------------------------------------------------------


def open_deferred_total(organisation_id) -> Decimal:
    """Deferred orders not shipped yet: owed soon, so they use up the credit limit too."""
    return to_money(
        db.session.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(
                Order.organisation_id == organisation_id,
                Order.payment_terms == PaymentTerms.DEFERRED,
                Order.status.in_(list(OPEN_STATUSES)),
            )
        )
    )


def available_credit(organisation) -> Decimal:
    debt = billing.balance(organisation.id)
    return to_money(organisation.credit_limit - debt - open_deferred_total(organisation.id))


def find_by_idempotency_key(organisation_id, key) -> Order | None:
    return db.session.scalar(
        select(Order).where(Order.organisation_id == organisation_id, Order.idempotency_key == key)
    )


def chosen_delivery_date(warehouse, value) -> date:
    """The buyer's delivery date if the warehouse can deliver on it (None: the earliest);
    anything else (a day off, a day before the lead time, a tampered form) is refused."""
    allowed = delivery.delivery_dates(warehouse)
    if value is None or value == "":
        return allowed[0]
    day = delivery.parse_delivery_date(value)
    if day not in allowed:
        raise UserError(
            _l(
                "Choose a delivery date from the list: working days from %(first)s to %(last)s.",
                first=f"{allowed[0]:%d.%m.%Y}",
                last=f"{allowed[-1]:%d.%m.%Y}",
            ),
            "delivery_date",
        )
    return day


def place_order(
    user,
    organisation,
    summary=None,
    *,
    address_id,
    payment_terms,
    comment,
    idempotency_key,
    delivery_date=None,
) -> tuple[Order, bool]:
    """Turn the cart into an order, reserving stock for every line in this transaction.

    `summary` is the cart's summary the checkout page computed for the chosen address's
    warehouse (`portal.orders.cart.summarise_cart`); it is computed here only when missing or
    made for another warehouse. `delivery_date` is one of the dates `portal.inventory.delivery`
    allows for the serving warehouse (None: the earliest). Returns (order, created). A
    repeated submit with the same key returns the first order; the buyer gets a confirmation
    e-mail after the commit. A refusal leaves nothing behind (a savepoint), so the page that
    shows it reads the cart and the credit as they are.
    """
    key = (idempotency_key or "").strip()[:64]
    if len(key) < 16:
        raise UserError(_l("The form has expired; please open the checkout again."))
    existing = find_by_idempotency_key(organisation.id, key)
    if existing is not None:
        return existing, False
    address, warehouse = checkout_target(organisation, address_id, payment_terms)
    if summary is None or getattr(summary.warehouse, "id", None) != warehouse.id:
        summary = summarise_cart(user.id, organisation, warehouse)
    if not summary.rows:
        raise UserError(_l("Your cart is empty."))
    with db.session.begin_nested():
        order, created = create_order(
            user,
            organisation,
            summary,
            address=address,
            payment_terms=payment_terms,
            comment=comment,
            idempotency_key=key,
            delivery_date=delivery_date,
        )
    if created:
        clear_cart(user.id, organisation.id)
        db.session.flush()
    return order, created


def checkout_target(organisation, address_id, payment_terms):
    """The organisation's delivery address and the warehouse serving it, or an UserError."""
    address = db.session.scalar(
        select(DeliveryAddress).where(
            DeliveryAddress.id == address_id, DeliveryAddress.organisation_id == organisation.id
        )
    )
    if address is None:
        raise UserError(_l("Choose one of your delivery addresses."), "address_id")
    if payment_terms not in (PaymentTerms.PREPAYMENT, PaymentTerms.DEFERRED):
        raise UserError(_l("Choose the payment terms."), "payment_terms")
    warehouse = serving_warehouse(organisation, address)
    if warehouse is None:
        raise UserError(_l("No warehouse delivers to this address yet."), "address_id")
    return address, warehouse


def credit_check(organisation, total, payment_terms, *, lock: bool) -> None:
    """Deferred payment: refused on credit hold and beyond the available credit (UserError).
    With `lock` the organisation row is locked first, so two deferred checkouts cannot both
    spend the same credit."""
    if payment_terms != PaymentTerms.DEFERRED:
        return
    if lock:
        db.session.execute(
            select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
        )
    refusal = billing.deferred_order_refusal(organisation.id)
    if refusal is not None:
        raise UserError(refusal, "payment_terms")
    credit = available_credit(organisation)
    if total > credit:
        raise UserError(
            _l(
                "The order exceeds your available credit (%(credit)s); choose prepayment "
                "or reduce the order.",
                credit=_rub(credit),
            ),
            "payment_terms",
        )


def create_order(
    user,
    organisation,
    summary,
    *,
    address,
    payment_terms,
    comment,
    idempotency_key,
    delivery_date=None,
) -> tuple[Order, bool]:
    """Place an order of summarised lines (the cart's or the API's) at the summary's
    warehouse: credit checks, the order, stock reserved line by line, its first event, the
    confirmation e-mail after the commit. `delivery_date` None: the earliest allowed."""
    warehouse = summary.warehouse
    delivery_date = chosen_delivery_date(warehouse, delivery_date)
    key = idempotency_key
    if summary.has_problems:
        raise UserError(_l("Some cart lines need your attention; see the messages in the cart."))
    credit_check(organisation, summary.total, payment_terms, lock=True)
    order = Order(
        organisation_id=organisation.id,
        user_id=user.id,
        status=OrderStatus.NEW,
        warehouse_id=warehouse.id,
        delivery_address=address.address,
        delivery_date=delivery_date,
        payment_terms=payment_terms,
        comment=(comment or "").strip() or None,
        idempotency_key=key,
        total=summary.total,
        vat_total=summary.vat_total,
    )
    try:
        # The unique key makes a parallel duplicate submit wait here and then fail.
        with db.session.begin_nested():
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        existing = find_by_idempotency_key(organisation.id, key)
        if existing is None:
            raise
        return existing, False
    order.number = f"{date.today():%y%m}-{order.id:06d}"
    rows = sorted(summary.rows, key=lambda r: r.line.item_id)
    db.session.execute(
        insert(OrderLine),
        [
            {
                "order_id": order.id,
                "item_id": row.line.item_id,
                "sku": row.line.item.sku,
                "name": row.line.item.full_name,
                "quantity": row.line.quantity,
                "price": row.price,
                "vat_category": row.line.item.vat_category,
                "vat_rate": row.vat_rate,
                "amount": row.amount,
            }
            for row in rows
        ],
    )
    db.session.expire(order, ["lines"])
    set_committed_value(order, "events", [])  # a new order has none: no SELECT to learn it
    order.events.append(OrderEvent(status=OrderStatus.NEW, user_id=user.id))
    db.session.flush()
    # The confirmation is rendered now, queued only once the stock is taken.
    message = confirmation.order_confirmation(order, summary.vat_by_rate)
    # The stock last: its rows stay locked from here to the commit, so everything that can be
    # done before (the order, its lines and event, the e-mail) is. All lines' stock at once,
    # the rows locked in item order (concurrent checkouts wait for each other instead of
    # deadlocking); a refusal rolls the savepoint back, order and lines with it.
    short = inventory.reserve_stock_many(
        warehouse.id, {r.line.item_id: r.line.quantity for r in rows}
    )
    if short:
        item = next(r.line.item for r in rows if r.line.item_id == short[0])
        raise UserError(
            _l(
                "«%(name)s»: not enough stock any more; the cart has been kept.",
                name=item.full_name,
            )
        )
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    confirmation.queue(message)
    return order, True


def order_event_data(order: Order) -> dict:
    """What a webhook of an order's status change carries."""
    return {"number": order.number, "status": str(order.status), "total": str(order.total)}


def _rub(amount):
    """Money in a message to the user: in the page's language (portal/formatting.py)."""
    from portal.formatting import money

    return money(amount)


def credit_position(organisation):
    debt = billing.balance(organisation.id)
    return {
        "balance": debt,
        "credit_limit": organisation.credit_limit,
        "available": available_credit(organisation),
    }
