"""Jinja filters: money in roubles, dates and times in the portal's time zone."""

from datetime import date
from decimal import Decimal

import phonenumbers
from flask_babel import format_date, format_datetime

from portal.money import format_rub, rate_key


def money(value):
    return "—" if value is None else format_rub(value)


def amount(value):
    """Money as a document's column prints it: '1 234,50' (the column says the currency)."""
    return "—" if value is None else format_rub(value).removesuffix("\u00a0₽")


def local_datetime(value, fmt="dd.MM.yyyy HH:mm"):
    return "" if value is None else format_datetime(value, fmt)


def local_date(value, fmt="dd.MM.yyyy"):
    if value is None:
        return ""
    if fmt == "dd.MM.yyyy" and type(value) is date:
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
    """A VAT rate as people write it: 22, 10, 9,5."""
    return "—" if value is None else str(rate_key(value)).replace(".", ",")


FILTERS = {
    "money": money,
    "amount": amount,
    "datetime": local_datetime,
    "date": local_date,
    "phone": phone,
    "vat_rate": vat_rate,
}


def format_volume(value) -> str:
    """12345.600 -> '12 345,6' (Russian grouping, no trailing zeros)."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.3f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u00a0").replace(".", ",")
