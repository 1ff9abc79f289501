"""The monthly submission window: the days of a month when readings are due (configured)."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from portal import clock


def month_label(period: date) -> str:
    return period.strftime("%m.%Y")


def previous_month(period: date) -> date:
    return clock.month_start(period - timedelta(days=1))


def day_in_month(period: date, day: int) -> date:
    next_month = clock.month_start(period + timedelta(days=32))
    last = (next_month - timedelta(days=1)).day
    return period.replace(day=max(1, min(day, last)))


@dataclass(frozen=True)
class SubmissionWindow:
    period: date
    opens: date
    closes: date
    today: date

    @property
    def is_open(self) -> bool:
        return self.opens <= self.today <= self.closes

    @property
    def is_closed(self) -> bool:
        return self.today > self.closes


def submission_window(today: date | None = None, period: date | None = None) -> SubmissionWindow:
    """The window of a month (default: the current one), from the configured days."""
    today = today or clock.local_today()
    period = period or clock.month_start(today)
    start = int(current_app.config.get("READING_WINDOW_START", 20))
    end = int(current_app.config.get("READING_WINDOW_END", 25))
    return SubmissionWindow(period, day_in_month(period, start), day_in_month(period, end), today)


def is_late(reading_date: date, today: date) -> bool:
    return today > submission_window(today, clock.month_start(reading_date)).closes


def is_early(reading_date: date, today: date) -> bool:
    """Submitted before the window of the reading's month opened: accepted, marked early."""
    return today < submission_window(today, clock.month_start(reading_date)).opens
