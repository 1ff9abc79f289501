"""The Russian production calendar: working days, public holidays and transferred days off.

The data is the `holidays` package's calendar of Russia (maintained, versioned with the
package): the non-working public holidays of art. 112 of the Labour Code, a holiday that falls
on a weekend moved to the next working day, and the transfers the Government decrees each year
— for 2025 Постановление Правительства РФ от 04.10.2024 № 1335, for 2026 от 24.09.2025 № 1466
(1–11 January off, 3 January moved to 9 January and 4 January to 31 December; 9 March and
11 May off for 8 March and 9 May), and the decree for 2027 (2026). A Saturday the decree makes
a working day (1 November 2025, 20 February 2027) is a working day here too.

A year the package has no decree for yet gets only the Labour Code's rules: upgrade the package
when the Government publishes the next year's transfers (usually in September).
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year)


def is_working_day(day: date) -> bool:
    """True on a working day: not a weekend (unless a decree made it working), not a day off."""
    return _calendar(day.year).is_working_day(day)


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the first working day after it.

    The rule of art. 193 of the Civil Code: a term that ends on a non-working day ends on the
    next working day.
    """
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date `count` working (banking) days after `day`; `day` itself is not counted.

    add_working_days(Thursday 30 April 2026, 3) is Wednesday 6 May: 1–3 May are days off.
    A negative count goes back. Zero gives the day itself when it is a working day, else the
    next working day.
    """
    if count == 0:
        return next_working_day(day)
    step = timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
