"""Jinja filters: money in roubles, dates and times in the portal's time zone."""

from flask_babel import format_date, format_datetime

from portal.money import format_rub


def money(value):
    return "—" if value is None else format_rub(value)


def local_datetime(value, fmt="dd.MM.yyyy HH:mm"):
    return "" if value is None else format_datetime(value, fmt)


def local_date(value, fmt="dd.MM.yyyy"):
    return "" if value is None else format_date(value, fmt)


FILTERS = {"money": money, "datetime": local_datetime, "date": local_date}
