"""Money and VAT: Decimal with ROUND_HALF_UP to kopecks, in one place.

The VAT rule of the счёт-фактура and the УПД (НК РФ ст. 169): the tax is computed for each
line of a document, rounded to the kopeck, and the document's tax is the sum of its lines' tax
(never the total times the rate). `taxed_line_from_gross` (catalogue prices include VAT) and
`taxed_line_from_net` (gas: volume × tariff, VAT on top) are that rule; `document_vat` adds the
lines up by rate. Every document uses them: cart, order, invoice, shipment, gas charge, statement.
The percentage itself is never written here: it comes from the dated rates (portal.billing.tax).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.validators import NumberError, parse_decimal

KOPECK = Decimal("0.01")
THIN_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"
MONEY_DIGITS = 12  # before the kopecks: the Money column (Numeric(14, 2)) holds no more


class MoneyError(ValueError):
    pass


def to_money(value) -> Decimal:
    """Parse a number (Decimal, int, str with comma or dot) and round to kopecks."""
    if isinstance(value, float):
        raise MoneyError("floats are not money; pass a Decimal or a string")
    if isinstance(value, str):
        # typed text: the digits 0-9 only, no exponent, no more digits than the column holds
        try:
            amount = parse_decimal(value, max_digits=MONEY_DIGITS)
        except NumberError as error:
            raise MoneyError(f"not an amount: {value[:40]!r}") from error
    else:
        try:
            amount = Decimal(value)
        except (InvalidOperation, ValueError, TypeError) as error:
            raise MoneyError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    try:
        return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:  # more digits than the decimal context holds
        raise MoneyError(f"not an amount: {value!r}") from error


def vat_included(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT contained in a gross amount at the given rate (percent)."""
    rate = Decimal(rate)
    return to_money(gross * rate / (Decimal(100) + rate))


def vat_on_top(net: Decimal, rate: Decimal) -> Decimal:
    """The VAT to add to a net amount at the given rate (percent)."""
    return to_money(net * Decimal(rate) / Decimal(100))


@dataclass(frozen=True)
class TaxedLine:
    """One document line's money: net + VAT = gross, each to the kopeck, at one rate."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    rate: Decimal


def taxed_line_from_gross(gross, rate) -> TaxedLine:
    """A line whose amount includes VAT (a catalogue price × quantity)."""
    gross = to_money(gross)
    vat = vat_included(gross, rate)
    return TaxedLine(gross - vat, vat, gross, Decimal(rate))


def taxed_line_from_net(net, rate) -> TaxedLine:
    """A line priced without VAT (gas: volume × tariff); VAT is added on top."""
    net = to_money(net)
    vat = vat_on_top(net, rate)
    return TaxedLine(net, vat, net + vat, Decimal(rate))


def document_vat(lines: Iterable[TaxedLine]) -> dict[Decimal, Decimal]:
    """The document's VAT by rate (ascending): the sum of its lines' VAT, never recomputed."""
    totals: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = rate_key(line.rate)
        totals[rate] = totals.get(rate, Decimal("0.00")) + line.vat
    return dict(sorted(totals.items()))


def rate_key(rate) -> Decimal:
    """22.00 -> 22, 9.50 -> 9.5: a rate as people write it."""
    rate = Decimal(rate)
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def format_rub(amount) -> str:
    """1234567.5 -> '1 234 567,50 ₽' (Russian grouping with a narrow no-break space)."""
    amount = to_money(amount)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{THIN_SPACE.join(groups)},{fraction}{NO_BREAK_SPACE}₽"
