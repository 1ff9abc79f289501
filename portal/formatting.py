"""Jinja filters: money in roubles, dates and times in the portal's time zone."""

import phonenumbers
from flask_babel import format_date, format_datetime

from portal.money import format_rub


def money(value):
    return "—" if value is None else format_rub(value)


def local_datetime(value, fmt="dd.MM.yyyy HH:mm"):
    return "" if value is None else format_datetime(value, fmt)


def local_date(value, fmt="dd.MM.yyyy"):
    return "" if value is None else format_date(value, fmt)


def phone(value):
    """+74951234567 -> +7 495 123-45-67 (stored as E.164, shown the way people write it)."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


FILTERS = {"money": money, "datetime": local_datetime, "date": local_date, "phone": phone}
