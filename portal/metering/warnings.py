"""Reading warnings: stored as a code with its figures, worded in the reader's language.

The deviation warning compares like with like: consumption per day since the previous reading
against consumption per day over the same dates a year earlier (last year's readings spread
evenly over the days between them). A stored warning holds numbers and ISO dates only, so the
Russian and the English page word the same warning each in its own language.
"""

import enum
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from flask_babel import gettext as _

from portal.formatting import format_volume, local_date


class WarningCode(enum.StrEnum):
    DEVIATION = "deviation"  # per day against the same dates last year
    DEVIATION_MONTH = "deviation_month"  # stored before 0033: the month against last year's
    NOTE = "note"  # stored before 0033 in words that could not be read back as figures


@dataclass(frozen=True)
class ReadingWarning:
    code: str
    params: dict

    @property
    def message(self) -> str:
        return warning_message(self.code, self.params)


def year_before(day: date) -> date:
    """The same date a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def reference_per_day(readings, start: date, end: date) -> Decimal | None:
    """Consumption per day between `start` and `end` from (reading_date, consumption) pairs.

    Each reading's consumption is spread evenly over the days since the reading before it; the
    span must be covered entirely by such intervals, otherwise there is no reference (None).
    """
    days = (end - start).days
    if days <= 0:
        return None
    volume, covered = Decimal(0), 0
    ordered = sorted(readings, key=lambda pair: pair[0])
    for (earlier, _volume), (later, consumption) in pairwise(ordered):
        if consumption is None:
            continue
        low, high = max(earlier, start), min(later, end)
        overlap = (high - low).days
        if overlap <= 0:
            continue
        volume += Decimal(consumption) * overlap / (later - earlier).days
        covered += overlap
    if covered < days:
        return None
    return volume / days


def _per_day(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def deviation_warning(
    consumption: Decimal, since: date, until: date, last_year_readings, share_allowed: Decimal
) -> ReadingWarning | None:
    """A warning when consumption per day differs from last year's on the same dates."""
    days = (until - since).days
    if days <= 0:
        return None
    reference_from, reference_to = year_before(since), year_before(until)
    reference = reference_per_day(last_year_readings, reference_from, reference_to)
    if not reference:
        return None
    per_day = Decimal(consumption) / days
    share = abs(per_day - reference) / reference
    if share <= share_allowed:
        return None
    return ReadingWarning(
        WarningCode.DEVIATION,
        {
            "volume": str(consumption),
            "days": days,
            "per_day": _per_day(per_day),
            "reference_per_day": _per_day(reference),
            "reference_from": reference_from.isoformat(),
            "reference_to": reference_to.isoformat(),
            "percent": int((share * 100).to_integral_value(rounding=ROUND_HALF_UP)),
        },
    )


def _volume(text) -> str:
    return format_volume(Decimal(str(text)))


def _day(text) -> str:
    return local_date(date.fromisoformat(text))


def warning_message(code, params) -> str | None:
    """A stored warning in the current language; None when there is no warning."""
    if not code:
        return None
    params = params or {}
    try:
        if code == WarningCode.DEVIATION:
            return _(
                "Consumption of %(volume)s m³ over %(days)s days (%(per_day)s m³ a day) differs "
                "by %(percent)s%% from the same dates last year, %(start)s–%(end)s "
                "(%(reference)s m³ a day). Please make sure the reading is right.",
                volume=_volume(params["volume"]),
                days=params["days"],
                per_day=_volume(params["per_day"]),
                percent=params["percent"],
                start=_day(params["reference_from"]),
                end=_day(params["reference_to"]),
                reference=_volume(params["reference_per_day"]),
            )
        if code == WarningCode.DEVIATION_MONTH:
            return _(
                "Consumption %(volume)s m³ differs from the same month last year "
                "(%(reference)s m³) by %(percent)s%%. Please make sure the reading is right.",
                volume=_volume(params["volume"]),
                reference=_volume(params["reference"]),
                percent=params["percent"],
            )
    except (KeyError, ValueError, ArithmeticError):
        pass
    return str(params.get("text") or _("Please make sure the reading is right."))
