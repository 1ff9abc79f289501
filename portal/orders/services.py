"""Ordering rules: the cart, bulk additions, checkout with stock reservation, order lifecycle."""

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from portal import audit, billing, clock
from portal.api import webhooks
from portal.billing import tax
from portal.billing.errors import BillingError
from portal.catalog.listing import items_by_code
from portal.catalog.models import Item
from portal.catalog.pricing import quotes_for
from portal.extensions import db
from portal.inventory import delivery
from portal.inventory import stock as inventory
from portal.inventory.warehouses import serving_warehouse
from portal.mail import send_mail
from portal.money import document_vat, taxed_line_from_gross, to_money
from portal.notifications.services import notify
from portal.orders import confirmation
from portal.orders.models import (
    NEXT_STATUSES,
    OPEN_STATUSES,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentTerms,
)
from portal.organisations.models import DeliveryAddress, Organisation
from portal.validators import NumberError, parse_whole

STATUS_LABELS = {
    OrderStatus.NEW: _l("New"),
    OrderStatus.CONFIRMED: _l("Confirmed"),
    OrderStatus.ASSEMBLING: _l("Assembling"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.DELIVERED: _l("Delivered"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}
PAYMENT_LABELS = {
    PaymentTerms.PREPAYMENT: _l("Prepayment by invoice"),
    PaymentTerms.DEFERRED: _l("Deferred payment"),
}


class OrderError(ValueError):
    """An ordering rule was broken; `message` is shown to the buyer or staff member."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- quantities ---------------------------------------------------------------------------


# A count of packs may carry the unit people write after it: «2 шт», «3шт», «2 уп.», «2 упак»,
# «5 упаковок», «2 pcs». Any other word («2 кг», «два», «2 шт 3») is not a count of packs.
PACK_UNIT = re.compile(
    r"(?:шт|штук[аи]?|уп|упак|упаковк[аи]|упаковок|pcs?|packs?)\.?",
    re.IGNORECASE,
)
QUANTITY_WITH_UNIT = re.compile(r"(?P<number>.*?\d)\s*(?P<unit>[^\d\s.,]+\.?)", re.DOTALL)


def without_pack_unit(text) -> str:
    """«2 шт» -> «2»; text without a known pack unit is returned as it is."""
    text = str(text if text is not None else "").strip()
    match = QUANTITY_WITH_UNIT.fullmatch(text)
    if match and PACK_UNIT.fullmatch(match["unit"]):
        return match["number"]
    return text


def parse_quantity(text) -> int | None:
    """A whole positive number of packs (the digits 0-9, optionally followed by «шт» or
    «уп.»), or None."""
    try:
        value = parse_whole(without_pack_unit(text))
    except NumberError:
        return None
    return value if value > 0 else None


def quantity_problem(item: Item, quantity: int, available: int | None):
    """Why a quantity of an item cannot be ordered (a message), or None when it can."""
    found = quantity_problem_code(item, quantity, available)
    return found[1] if found else None


def quantity_problem_code(item: Item, quantity: int, available: int | None):
    """(a machine code, the message) of why a quantity cannot be ordered, or None."""
    if quantity < item.min_quantity:
        return "below_minimum", _l("The minimum order is %(count)s packs.", count=item.min_quantity)
    if quantity % item.order_multiple:
        return "not_multiple", _l(
            "Order in multiples of %(count)s packs.", count=item.order_multiple
        )
    if available is not None and quantity > available:
        if available <= 0:
            return "out_of_stock", _l("Out of stock.")
        return "insufficient_stock", _l("Only %(count)s packs in stock.", count=available)
    return None


# --- the cart -----------------------------------------------------------------------------


def _cart_query(user_id, organisation_id):
    return select(CartLine).where(
        CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
    )


def cart_lines(user_id, organisation_id):
    return db.session.scalars(_cart_query(user_id, organisation_id).order_by(CartLine.id)).all()


def cart_count(user_id, organisation_id) -> int:
    return db.session.scalar(
        select(func.count(CartLine.id)).where(
            CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
        )
    )


@dataclass
class CartRow:
    line: CartLine
    price: Decimal | None
    amount: Decimal | None
    available: int
    problem: object = None
    promotion: object = None
    vat_rate: Decimal | None = None  # the item's category's rate today
    problem_code: str | None = None  # a machine code of `problem` (for the API)


@dataclass
class CartSummary:
    rows: list
    total: Decimal = Decimal("0.00")
    vat_by_rate: dict = field(default_factory=dict)
    warehouse: object = None

    @property
    def has_problems(self) -> bool:
        return any(r.problem for r in self.rows)

    @property
    def vat_total(self) -> Decimal:
        return sum(self.vat_by_rate.values(), Decimal("0.00"))


def summarise_cart(user_id, organisation, warehouse=None) -> CartSummary:
    """Lines with price, stock and a message per line; totals with VAT by rate."""
    warehouse = warehouse or serving_warehouse(organisation)
    return summarise_lines(organisation, cart_lines(user_id, organisation.id), warehouse)


@dataclass
class WantedLine:
    """A line to order that is not in a cart (the API): what summarise_lines reads."""

    item: Item
    quantity: int

    @property
    def item_id(self) -> int:
        return self.item.id


def summarise_lines(organisation, lines, warehouse) -> CartSummary:
    """The cart's rules for any lines (cart lines or WantedLine): price, stock, a message
    (and its code) per line; totals with VAT by rate."""
    item_ids = [line.item_id for line in lines]
    quotes = quotes_for(organisation.id, item_ids)
    stock = inventory.stock_in(warehouse.id, item_ids) if warehouse else {}
    summary = CartSummary(rows=[], warehouse=warehouse)
    rates = tax.rates_on(clock.local_today())
    taxed = []
    for line in lines:
        quote = quotes.get(line.item_id)
        available = stock.get(line.item_id, 0)
        code, problem = quantity_problem_code(line.item, line.quantity, available) or (None, None)
        if quote is None and problem is None:
            code, problem = "no_price", _l("This item has no price for your organisation.")
        if not line.item.is_active:
            code, problem = "withdrawn", _l("The item is no longer supplied.")
        rate = rates.get(line.item.vat_category)
        if rate is None and problem is None:
            code, problem = "no_vat_rate", _l("This item has no VAT rate in force today.")
        amount = to_money(quote.price * line.quantity) if quote else None
        summary.rows.append(
            CartRow(
                line,
                quote.price if quote else None,
                amount,
                available,
                problem,
                quote.promotion if quote else None,
                rate,
                code,
            )
        )
        if amount is not None and rate is not None:
            summary.total += amount
            taxed.append(taxed_line_from_gross(amount, rate))
    summary.vat_by_rate = document_vat(taxed)
    return summary


def _active_item(item_id) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or not item.is_active:
        raise OrderError(_l("This item is not in the catalogue."))
    return item


def add_to_cart(user_id, organisation, item_id, quantity) -> CartLine:
    """Add packs of an item (on top of what is already in the cart), checking the rules."""
    item = _active_item(item_id)
    if quantity is None or quantity <= 0:
        raise OrderError(_l("Enter a whole number of packs greater than zero."), "quantity")
    line = db.session.scalar(
        _cart_query(user_id, organisation.id).where(CartLine.item_id == item.id)
    )
    wanted = quantity + (line.quantity if line else 0)
    warehouse = serving_warehouse(organisation)
    available = inventory.stock_in(warehouse.id, [item.id]).get(item.id, 0) if warehouse else 0
    problem = quantity_problem(item, wanted, available)
    if problem:
        raise OrderError(problem, "quantity")
    if line is None:
        line = CartLine(
            user_id=user_id, organisation_id=organisation.id, item_id=item.id, quantity=wanted
        )
        db.session.add(line)
    else:
        line.quantity = wanted
    db.session.flush()
    return line


def set_cart_quantity(user_id, organisation, line_id, quantity) -> CartLine | None:
    """Change a line's quantity (0 removes it); the line must be this user's own."""
    line = db.session.scalar(_cart_query(user_id, organisation.id).where(CartLine.id == line_id))
    if line is None:
        raise OrderError(_l("This line is not in your cart."))
    if quantity == 0:
        db.session.delete(line)
        db.session.flush()
        return None
    if quantity is None or quantity < 0:
        raise OrderError(_l("Enter a whole number of packs greater than zero."), "quantity")
    warehouse = serving_warehouse(organisation)
    available = inventory.stock_in(warehouse.id, [line.item_id]).get(line.item_id, 0)
    problem = quantity_problem(line.item, quantity, available)
    if problem:
        raise OrderError(problem, "quantity")
    line.quantity = quantity
    db.session.flush()
    return line


def remove_from_cart(user_id, organisation_id, line_id) -> None:
    line = db.session.scalar(_cart_query(user_id, organisation_id).where(CartLine.id == line_id))
    if line is None:
        raise OrderError(_l("This line is not in your cart."))
    db.session.delete(line)
    db.session.flush()


def clear_cart(user_id, organisation_id) -> None:
    db.session.execute(
        delete(CartLine).where(
            CartLine.user_id == user_id, CartLine.organisation_id == organisation_id
        )
    )


@dataclass(frozen=True)
class RejectedLine:
    line: int
    code: str
    reason: object


@dataclass
class BulkResult:
    added: int = 0
    rejected: list = field(default_factory=list)


def add_rows_to_cart(user_id, organisation, rows, *, skip_invalid=False) -> BulkResult:
    """Add many `code quantity` rows at once (quick order, order file, re-order).

    Every row is matched or rejected with its line number and reason. Unless skip_invalid,
    one rejected row means nothing is added, so the buyer can fix the file and try again.
    """
    result = BulkResult()
    items = items_by_code(row.code for row in rows)
    warehouse = serving_warehouse(organisation)
    existing = {line.item_id: line for line in cart_lines(user_id, organisation.id)}
    stock = (
        inventory.stock_in(warehouse.id, [i.id for i in items.values()] + list(existing))
        if warehouse
        else {}
    )
    wanted: OrderedDict[int, int] = OrderedDict()
    first_line: dict[int, object] = {}
    for row in rows:
        item = items.get(row.code.strip()) if row.code.strip() else None
        quantity = parse_quantity(row.quantity_text)
        if not row.code.strip():
            result.rejected.append(RejectedLine(row.line, row.code, _l("No code.")))
        elif item is None:
            result.rejected.append(
                RejectedLine(row.line, row.code, _l("No item with this code or barcode."))
            )
        elif quantity is None:
            result.rejected.append(
                RejectedLine(
                    row.line,
                    row.code,
                    _l(
                        "Quantity «%(value)s» is not a whole number above zero.",
                        value=row.quantity_text,
                    ),
                )
            )
        else:
            wanted[item.id] = wanted.get(item.id, 0) + quantity
            first_line.setdefault(item.id, (row, item))
    for item_id, quantity in wanted.items():
        row, item = first_line[item_id]
        total = quantity + (existing[item_id].quantity if item_id in existing else 0)
        problem = quantity_problem(item, total, stock.get(item_id, 0))
        if problem:
            result.rejected.append(RejectedLine(row.line, row.code, problem))
            wanted[item_id] = 0
    result.rejected.sort(key=lambda r: r.line)
    if result.rejected and not skip_invalid:
        return result
    for item_id, quantity in wanted.items():
        if not quantity:
            continue
        if item_id in existing:
            existing[item_id].quantity += quantity
        else:
            db.session.add(
                CartLine(
                    user_id=user_id,
                    organisation_id=organisation.id,
                    item_id=item_id,
                    quantity=quantity,
                )
            )
        result.added += 1
    db.session.flush()
    return result


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
        raise OrderError(
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
    *,
    address_id,
    payment_terms,
    comment,
    idempotency_key,
    delivery_date=None,
) -> tuple[Order, bool]:
    """Turn the cart into an order, reserving stock for every line in this transaction.

    `delivery_date` is one of the dates `portal.inventory.delivery` allows for the serving
    warehouse (None: the earliest). Returns (order, created). A repeated submit with the
    same key returns the first order; the buyer gets a confirmation e-mail after the commit.
    """
    key = (idempotency_key or "").strip()[:64]
    if len(key) < 16:
        raise OrderError(_l("The form has expired; please open the checkout again."))
    existing = find_by_idempotency_key(organisation.id, key)
    if existing is not None:
        return existing, False
    address, warehouse = checkout_target(organisation, address_id, payment_terms)
    delivery_date = chosen_delivery_date(warehouse, delivery_date)
    summary = summarise_cart(user.id, organisation, warehouse)
    if not summary.rows:
        raise OrderError(_l("Your cart is empty."))
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
    """The organisation's delivery address and the warehouse serving it, or an OrderError."""
    address = db.session.scalar(
        select(DeliveryAddress).where(
            DeliveryAddress.id == address_id, DeliveryAddress.organisation_id == organisation.id
        )
    )
    if address is None:
        raise OrderError(_l("Choose one of your delivery addresses."), "address_id")
    if payment_terms not in (PaymentTerms.PREPAYMENT, PaymentTerms.DEFERRED):
        raise OrderError(_l("Choose the payment terms."), "payment_terms")
    warehouse = serving_warehouse(organisation, address)
    if warehouse is None:
        raise OrderError(_l("No warehouse delivers to this address yet."), "address_id")
    return address, warehouse


def credit_check(organisation, total, payment_terms, *, lock: bool) -> None:
    """Deferred payment: refused on credit hold and beyond the available credit (OrderError).
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
        raise OrderError(refusal, "payment_terms")
    credit = available_credit(organisation)
    if total > credit:
        raise OrderError(
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
        raise OrderError(_l("Some cart lines need your attention; see the messages in the cart."))
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
    # All lines' stock at once, the rows locked in item order (concurrent checkouts wait for
    # each other instead of deadlocking), then the lines in one multi-row INSERT.
    rows = sorted(summary.rows, key=lambda r: r.line.item_id)
    short = inventory.reserve_stock_many(
        warehouse.id, {r.line.item_id: r.line.quantity for r in rows}
    )
    if short:
        item = next(r.line.item for r in rows if r.line.item_id == short[0])
        raise OrderError(
            _l(
                "«%(name)s»: not enough stock any more; the cart has been kept.",
                name=item.full_name,
            )
        )
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
    order.events.append(OrderEvent(status=OrderStatus.NEW, user_id=user.id))
    db.session.flush()
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    confirmation.send_order_confirmation(order)
    return order, True


def order_event_data(order: Order) -> dict:
    """What a webhook of an order's status change carries."""
    return {"number": order.number, "status": str(order.status), "total": str(order.total)}


def _rub(amount):
    """Money in a message to the user: in the page's language (portal/formatting.py)."""
    from portal.formatting import money

    return money(amount)


# --- the order's life ---------------------------------------------------------------------


def order_for_organisation(organisation_id, order_id) -> Order | None:
    """The organisation's order with this id, or None (used by other domains, e.g. tickets)."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id, Order.organisation_id == organisation_id)
    )


def _locked(order: Order) -> Order:
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order)
    return order


def _release_unshipped(order: Order, *, all_lines: bool) -> None:
    for line in order.lines:
        shipped = 0 if all_lines or line.shipped_quantity is None else line.shipped_quantity
        if not all_lines and line.shipped_quantity is None:
            continue
        back = line.quantity - shipped
        if back > 0:
            inventory.release_stock(order.warehouse_id, line.item_id, back)


def _notify_status(order: Order) -> None:
    user = order.user
    if user is None or not user.is_active:
        return
    label = STATUS_LABELS[OrderStatus(order.status)]
    link = url_for("orders.show_order", order_id=order.id)
    notify(
        user,
        str(_l("Order %(number)s: %(status)s", number=order.number, status=label)),
        link=link,
        organisation=order.organisation_id,
    )
    if user.notify_order_status:
        send_mail(
            user.email,
            _l("Order %(number)s: %(status)s", number=order.number, status=label),
            "orders/mail/status_changed",
            user.language,
            order=order,
            user=user,
            status_label=label,
        )


def cancel_order(order: Order, user) -> Order:
    """The buyer cancels an order not yet confirmed; its packs go back on the shelf."""
    _locked(order)
    if order.status != OrderStatus.NEW:
        raise OrderError(_l("Only a new order can be cancelled; contact your manager."))
    _release_unshipped(order, all_lines=True)
    order.status = OrderStatus.CANCELLED
    order.events.append(OrderEvent(status=OrderStatus.CANCELLED, user_id=user.id))
    db.session.flush()
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    _notify_status(order)
    return order


def change_status(order: Order, new_status, staff_user, note=None, shipped_on=None) -> Order:
    """Staff move an order along its workflow; shipping posts the charge to the ledger and
    issues the shipment's УПД (dated `shipped_on`, today by default)."""
    _locked(order)
    try:
        new_status = OrderStatus(new_status)
    except ValueError as error:
        raise OrderError(_l("Unknown status."), "status") from error
    current = OrderStatus(order.status)
    if new_status not in NEXT_STATUSES[current]:
        raise OrderError(
            _l(
                "An order in status «%(current)s» cannot become «%(new)s».",
                current=STATUS_LABELS[current],
                new=STATUS_LABELS[new_status],
            ),
            "status",
        )
    if new_status == OrderStatus.CANCELLED:
        _release_unshipped(order, all_lines=True)
    if new_status == OrderStatus.SHIPPED:
        for line in order.lines:
            if line.shipped_quantity is None:
                line.shipped_quantity = line.quantity
        _release_unshipped(order, all_lines=False)
        try:
            billing.post_shipment(order, staff_user, shipped_on)
        except BillingError as error:  # the УПД is refused: nothing ships, the reason is shown
            raise OrderError(error.message, "status") from error
    order.status = new_status
    order.events.append(
        OrderEvent(status=new_status, user_id=staff_user.id, note=(note or "").strip() or None)
    )
    audit.record(
        "orders.status_changed",
        target=order,
        organisation=order.organisation_id,
        number=order.number,
        old=current.value,
        new=new_status.value,
        note=note or "",
    )
    db.session.flush()
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    _notify_status(order)
    return order


def set_shipped_quantities(order: Order, quantities: dict[int, int], staff_user) -> Order:
    """Record what is actually going out, line by line, before the order ships."""
    _locked(order)
    if order.status not in OPEN_STATUSES:
        raise OrderError(_l("Shipped quantities can be changed only before shipping."))
    changes = {}
    for line in order.lines:
        if line.id not in quantities:
            continue
        value = quantities[line.id]
        if value is None or value < 0 or value > line.quantity:
            raise OrderError(
                _l(
                    "«%(name)s»: the shipped quantity must be between 0 and %(count)s.",
                    name=line.name,
                    count=line.quantity,
                )
            )
        if value != line.shipped_quantity:
            changes[line.sku] = [line.shipped_quantity, value]
            line.shipped_quantity = value
    if changes:
        audit.record(
            "orders.shipped_quantities",
            target=order,
            organisation=order.organisation_id,
            number=order.number,
            changes=changes,
        )
    db.session.flush()
    return order


def set_staff_note(order: Order, note: str, staff_user) -> Order:
    order.staff_note = (note or "").strip() or None
    audit.record(
        "orders.note", target=order, organisation=order.organisation_id, note=order.staff_note
    )
    db.session.flush()
    return order


def reorder(order: Order, user, organisation) -> BulkResult:
    """Put an earlier order's items back into the cart (lines that cannot be are reported)."""
    from portal.orders.order_files import OrderRow

    rows = []
    for number, line in enumerate(order.lines, start=1):
        item = db.session.get(Item, line.item_id)
        code = item.sku if item is not None else line.sku
        rows.append(OrderRow(number, code, str(line.quantity)))
    return add_rows_to_cart(user.id, organisation, rows, skip_invalid=True)


# --- dashboard figures ----------------------------------------------------------------------


def open_orders_summary(organisation_id):
    orders = db.session.scalars(
        select(Order)
        .where(Order.organisation_id == organisation_id, Order.status.in_(list(OPEN_STATUSES)))
        .order_by(Order.created_at.desc())
        .limit(5)
    ).all()
    count = db.session.scalar(
        select(func.count(Order.id)).where(
            Order.organisation_id == organisation_id, Order.status.in_(list(OPEN_STATUSES))
        )
    )
    return {"orders": orders, "count": count, "labels": STATUS_LABELS}


def credit_position(organisation):
    debt = billing.balance(organisation.id)
    return {
        "balance": debt,
        "credit_limit": organisation.credit_limit,
        "available": available_credit(organisation),
    }


def orders_to_confirm_count() -> int:
    return db.session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.NEW))
