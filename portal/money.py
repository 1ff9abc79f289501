"""Money and VAT: Decimal with ROUND_HALF_UP to kopecks, in one place."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KOPECK = Decimal("0.01")
THIN_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"
VAT_RATES = (Decimal("0"), Decimal("10"), Decimal("20"))


class MoneyError(ValueError):
    pass


def to_money(value) -> Decimal:
    """Parse a number (Decimal, int, str with comma or dot) and round to kopecks."""
    if isinstance(value, float):
        raise MoneyError("floats are not money; pass a Decimal or a string")
    try:
        amount = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise MoneyError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


def vat_included(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT contained in a gross amount at the given rate (percent)."""
    rate = Decimal(rate)
    return to_money(gross * rate / (Decimal(100) + rate))


def vat_on_top(net: Decimal, rate: Decimal) -> Decimal:
    """The VAT to add to a net amount at the given rate (percent)."""
    return to_money(net * Decimal(rate) / Decimal(100))


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
