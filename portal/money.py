"""Money and VAT: Decimal with ROUND_HALF_UP to kopecks, in one place."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portal.validators import NumberError, parse_decimal

KOPECK = Decimal("0.01")
THIN_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"
VAT_RATES = (Decimal("0"), Decimal("10"), Decimal("20"))
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
