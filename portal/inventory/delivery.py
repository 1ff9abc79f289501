"""Delivery dates: the working days a warehouse can deliver on, the one rule checkout uses.

- An order placed on a working day before the cut-off (ORDER_CUTOFF, «15:00» Moscow time by
  default) is taken into work that day; one placed later, or on a weekend or a day off, on
  the next working day.
- The warehouse delivers its lead time (`Warehouse.lead_time_days`, at least 1) in working
  days after the day the order is taken into work: the earliest date.
- The buyer chooses among the earliest date and the working days after it,
  DELIVERY_DATE_CHOICES dates in all (10 by default). No delivery on Saturdays, Sundays,
  Russian public holidays or the days off the Government transfers (portal.calendar_ru);
  a Saturday a decree makes working is a delivery day.

The dates are worked out again when the order is placed: a date the form offered before the
cut-off passed (or a date typed into a tampered form) is refused with the list to choose from.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from portal import calendar_ru


def local_now() -> datetime:
    """Now where the supplier works (Europe/Moscow by default), as a naive local time."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    return datetime.now(UTC).astimezone(zone).replace(tzinfo=None)


def cutoff() -> time:
    """The time of day after which an order is taken into work on the next working day."""
    text = str(current_app.config.get("ORDER_CUTOFF") or "15:00")
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


def choice_count() -> int:
    return max(int(current_app.config.get("DELIVERY_DATE_CHOICES", 10)), 1)


def earliest_delivery_date(warehouse, now: datetime | None = None) -> date:
    """The first day the warehouse can deliver an order placed at `now` (local time)."""
    now = now or local_now()
    today = now.date()
    late = not calendar_ru.is_working_day(today) or now.time() >= cutoff()
    lead_time = max(int(warehouse.lead_time_days or 1), 1)
    return calendar_ru.add_working_days(today, lead_time + (1 if late else 0))


def delivery_dates(warehouse, now: datetime | None = None) -> list[date]:
    """The dates a buyer may choose at checkout: working days from the earliest one."""
    day = earliest_delivery_date(warehouse, now)
    dates = [day]
    while len(dates) < choice_count():
        day = calendar_ru.add_working_days(day, 1)
        dates.append(day)
    return dates


def parse_delivery_date(value) -> date | None:
    """A date from the form (ISO «2026-12-07») or None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
