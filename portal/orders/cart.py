"""The cart: quantities in packs, the cart's lines and their summary (prices, stock, VAT),
bulk additions (quick order, order file, re-order)."""

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from portal import clock
from portal.billing import tax
from portal.catalog.listing import items_by_code
from portal.catalog.models import Item
from portal.catalog.pricing import quotes_for
from portal.errors import UserError
from portal.extensions import db
from portal.inventory import stock as inventory
from portal.inventory.warehouses import serving_warehouse
from portal.money import document_vat, taxed_line_from_gross, to_money
from portal.orders.models import CartLine, Order
from portal.validators import NumberError, parse_whole

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
        raise UserError(_l("This item is not in the catalogue."))
    return item


def add_to_cart(user_id, organisation, item_id, quantity) -> CartLine:
    """Add packs of an item (on top of what is already in the cart), checking the rules."""
    item = _active_item(item_id)
    if quantity is None or quantity <= 0:
        raise UserError(_l("Enter a whole number of packs greater than zero."), "quantity")
    line = db.session.scalar(
        _cart_query(user_id, organisation.id).where(CartLine.item_id == item.id)
    )
    wanted = quantity + (line.quantity if line else 0)
    warehouse = serving_warehouse(organisation)
    available = inventory.stock_in(warehouse.id, [item.id]).get(item.id, 0) if warehouse else 0
    problem = quantity_problem(item, wanted, available)
    if problem:
        raise UserError(problem, "quantity")
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
        raise UserError(_l("This line is not in your cart."))
    if quantity == 0:
        db.session.delete(line)
        db.session.flush()
        return None
    if quantity is None or quantity < 0:
        raise UserError(_l("Enter a whole number of packs greater than zero."), "quantity")
    warehouse = serving_warehouse(organisation)
    available = inventory.stock_in(warehouse.id, [line.item_id]).get(line.item_id, 0)
    problem = quantity_problem(line.item, quantity, available)
    if problem:
        raise UserError(problem, "quantity")
    line.quantity = quantity
    db.session.flush()
    return line


def remove_from_cart(user_id, organisation_id, line_id) -> None:
    line = db.session.scalar(_cart_query(user_id, organisation_id).where(CartLine.id == line_id))
    if line is None:
        raise UserError(_l("This line is not in your cart."))
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


def reorder(order: Order, user, organisation) -> BulkResult:
    """Put an earlier order's items back into the cart (lines that cannot be are reported)."""
    from portal.orders.order_files import OrderRow

    rows = []
    for number, line in enumerate(order.lines, start=1):
        item = db.session.get(Item, line.item_id)
        code = item.sku if item is not None else line.sku
        rows.append(OrderRow(number, code, str(line.quantity)))
    return add_rows_to_cart(user.id, organisation, rows, skip_invalid=True)
