"""Jinja filters: money, numbers and dates in the user's language and the portal's time zone.

Russian pages print 1 234,50 ₽ (the documents' own grouping, portal.money.format_rub); other
languages print numbers the way Babel writes them for the locale (English: 1,234.50 ₽).
"""

from datetime import date
from decimal import Decimal

import phonenumbers
from babel.numbers import format_decimal
from flask_babel import format_date, format_datetime, format_time, get_locale

from portal.money import format_rub, rate_key, to_money


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "ru"


def money(value):
    if value is None:
        return "—"
    language = _language()
    if language == "ru":
        return format_rub(value)
    return f"{format_decimal(to_money(value), '#,##0.00', locale=language)}\u00a0₽"


def amount(value):
    """Money as a Russian document's column prints it: '1 234,50' (whatever the page language:
    invoices, УПД and statements are Russian documents)."""
    return "—" if value is None else format_rub(value).removesuffix("\u00a0₽")


def number(value, digits=3):
    """Any Decimal, float or int for a page: grouped, at most `digits` decimals, never 2E+1."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    text = format_decimal(Decimal(str(value)), pattern, locale=_language())
    return text if _language() != "ru" else text.replace("\u202f", "\u00a0")


# The default patterns are Russian; other languages get their locale's own (Babel "medium":
# "Nov 22, 2026" in English) instead of Russian digits in a foreign order.
_RUSSIAN_DATE, _RUSSIAN_DATETIME = "dd.MM.yyyy", "dd.MM.yyyy HH:mm"


def local_datetime(value, fmt=_RUSSIAN_DATETIME):
    if value is None:
        return ""
    if fmt == _RUSSIAN_DATETIME and _language() != "ru":
        return f"{format_date(value, 'medium')}, {format_time(value, 'HH:mm')}"
    return format_datetime(value, fmt)


def local_date(value, fmt=_RUSSIAN_DATE):
    if value is None:
        return ""
    if fmt == _RUSSIAN_DATE and _language() != "ru":
        return format_date(value, "medium")
    if fmt == _RUSSIAN_DATE and type(value) is date:
        # The default pattern is digits only (no names, no time zone for a plain date): what
        # Babel would print, at a tenth of the cost. History tables print one per row.
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    return format_date(value, fmt)


def phone(value):
    """+74951234567 -> +7 495 123-45-67 (stored as E.164, shown the way people write it)."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def vat_rate(value) -> str:
    """A VAT rate as people write it: 22, 10, 9,5 (9.5 in English)."""
    if value is None:
        return "—"
    text = format(rate_key(value), "f")
    return text.replace(".", ",") if _language() == "ru" else text


FILTERS = {
    "money": money,
    "amount": amount,
    "datetime": local_datetime,
    "date": local_date,
    "phone": phone,
    "vat_rate": vat_rate,
    "number": number,
}


def format_volume(value) -> str:
    """12345.600 -> '12 345,6' in Russian, '12,345.6' in English (no trailing zeros)."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.3f}".rstrip("0").rstrip(".")
    if _language() != "ru":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def plain_number(value) -> str:
    """A Decimal for a form field the user edits: 1000.000 -> '1000', 9.50 -> '9.5'.

    str(Decimal("1000").normalize()) is '1E+3': never show that to a person.
    """
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text
