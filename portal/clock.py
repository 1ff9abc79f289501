"""The portal's calendar: today's date where the supplier works (Europe/Moscow by default)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def local_today() -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    return datetime.now(UTC).astimezone(zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(period: date) -> date:
    """The last day of the month a date falls in."""
    return month_start(month_start(period) + timedelta(days=32)) - timedelta(days=1)
