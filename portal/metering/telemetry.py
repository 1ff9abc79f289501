"""Telemetry: hourly and daily consumption series per meter (a plant's АСКУГ, correctors).

`store_series` checks every point and then stores all of them or none. A point is keyed by
meter, granularity and the start of its interval: sending it again replaces the value (or,
when the value is the same, changes nothing and is counted as unchanged), so a client may
resend a whole day after a network failure.

Rules for a point: the volume is not negative, has at most three decimals and is not more
than the meter can pass in the interval (its maximum flow × the interval's hours); the
interval starts at a whole hour and not in the future; daily points of one series start at
the same hour of the day (a gas day may start at 10:00, but one series does not mix starts:
an hourly point in a daily series is refused); a series names each interval once.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import format_volume
from portal.metering.models import (
    MeteringPoint,
    TelemetryGranularity,
    TelemetryPoint,
    TelemetrySource,
)
from portal.metering.readings import active_meters_of

HOURS = {TelemetryGranularity.HOUR: 1, TelemetryGranularity.DAY: 24}
VOLUME_LIMIT = Decimal(10) ** 11  # the Volume column holds 11 digits before the point
THOUSANDTH = Decimal("0.001")


@dataclass
class PointInput:
    starts_at: datetime
    volume: Decimal
    counter_value: Decimal | None = None


@dataclass
class SeriesInput:
    granularity: str
    points: list[PointInput]
    meter_id: int | None = None
    serial_number: str | None = None


@dataclass
class PointError:
    """Where the refusal is: the series' index, the point's (None: the series itself)."""

    series: int
    point: int | None
    field: str
    message: str


class TelemetryRejected(UserError):
    """Some points are refused, nothing stored: `details["errors"]` lists the PointErrors."""


@dataclass
class SeriesResult:
    meter_id: int
    serial_number: str
    granularity: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class TelemetryResult:
    series: list[SeriesResult] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.series)


def _meters(organisation_id, series: list[SeriesInput]) -> tuple[dict, dict]:
    ids = {s.meter_id for s in series if s.meter_id is not None}
    serials = {s.serial_number for s in series if s.serial_number is not None}
    if not ids and not serials:
        return {}, {}
    condition = MeteringPoint.id.in_(ids) if ids else None
    if serials:
        by_serial = MeteringPoint.serial_number.in_(serials)
        condition = by_serial if condition is None else condition | by_serial
    rows = db.session.scalars(
        select(MeteringPoint).where(
            condition,
            active_meters_of(organisation_id),
        )
    ).all()
    return {m.id: m for m in rows}, {m.serial_number: m for m in rows}


def _check_point(meter, granularity, point, now) -> list[tuple[str, str]]:
    problems = []
    volume = point.volume
    if volume < 0:
        problems.append(("volume", _("A volume cannot be negative.")))
    elif volume != volume.quantize(THOUSANDTH):
        problems.append(("volume", _("Use at most three decimal places.")))
    elif volume >= VOLUME_LIMIT:
        problems.append(("volume", _("The volume is too large.")))
    else:
        hours = HOURS[granularity]
        limit = meter.max_flow * hours
        if volume > limit:
            problems.append(
                (
                    "volume",
                    _(
                        "%(volume)s m³ is more than the meter can pass in %(hours)s h: "
                        "%(flow)s m³/h × %(hours)s h = %(limit)s m³.",
                        volume=format_volume(volume),
                        hours=hours,
                        flow=format_volume(meter.max_flow),
                        limit=format_volume(limit),
                    ),
                )
            )
    counter = point.counter_value
    if counter is not None and (
        counter < 0 or counter >= meter.rollover_modulus or counter != counter.quantize(THOUSANDTH)
    ):
        problems.append(
            (
                "counter_value",
                _(
                    "The meter index is a number from 0 with at most %(digits)s digits and "
                    "three decimal places.",
                    digits=meter.digits,
                ),
            )
        )
    starts_at = point.starts_at
    if starts_at.minute or starts_at.second or starts_at.microsecond:
        problems.append(("at", _("An interval starts at a whole hour (…:00:00).")))
    if starts_at > now:
        problems.append(("at", _("The interval starts in the future.")))
    return problems


def validate(organisation_id, series: list[SeriesInput], now=None):
    """Every refusal of every point (an empty list: all may be stored), and the meters."""
    now = now or utcnow()
    by_id, by_serial = _meters(organisation_id, series)
    errors, meters = [], []
    for index, one in enumerate(series):
        meter = by_id.get(one.meter_id) if one.meter_id is not None else None
        if meter is None and one.serial_number is not None:
            meter = by_serial.get(one.serial_number)
        if meter is None or (
            one.meter_id is not None
            and one.serial_number is not None
            and meter.serial_number != one.serial_number
        ):
            name = "meter_id" if one.meter_id is not None else "serial_number"
            errors.append(
                PointError(index, None, name, _("This meter is not one of your organisation's."))
            )
            meters.append(None)
            continue
        meters.append(meter)
        granularity = TelemetryGranularity(one.granularity)
        seen, first_hour = {}, None
        for position, point in enumerate(one.points):
            try:
                point.starts_at = point.starts_at.astimezone(UTC)
                if point.starts_at.year < 2000:
                    raise OverflowError(point.starts_at)
            except OverflowError:
                errors.append(PointError(index, position, "at", _("The interval is too long ago.")))
                continue
            for name, message in _check_point(meter, granularity, point, now):
                errors.append(PointError(index, position, name, message))
            if granularity == TelemetryGranularity.DAY:
                start = (point.starts_at.hour, point.starts_at.minute)
                if first_hour is None:
                    first_hour = start
                elif start != first_hour:
                    errors.append(
                        PointError(
                            index,
                            position,
                            "at",
                            _(
                                "Mixed granularity: the daily points of one series start at "
                                "the same hour; this one starts at %(this)s UTC, the first "
                                "at %(first)s UTC. Send hourly points as a series of their "
                                "own.",
                                this=f"{start[0]:02d}:{start[1]:02d}",
                                first=f"{first_hour[0]:02d}:{first_hour[1]:02d}",
                            ),
                        )
                    )
            earlier = seen.setdefault(point.starts_at, position)
            if earlier != position:
                errors.append(
                    PointError(
                        index,
                        position,
                        "at",
                        _(
                            "This interval is already in the series (point %(index)s).",
                            index=earlier,
                        ),
                    )
                )
    # The same meter and granularity twice in one request: one series per meter, please.
    keys = {}
    for index, (one, meter) in enumerate(zip(series, meters, strict=True)):
        if meter is None:
            continue
        earlier = keys.setdefault((meter.id, one.granularity), index)
        if earlier != index:
            errors.append(
                PointError(
                    index,
                    None,
                    "granularity",
                    _(
                        "This meter's %(granularity)s series is already in the request "
                        "(series %(index)s); send one series per meter and granularity.",
                        granularity=one.granularity,
                        index=earlier,
                    ),
                )
            )
    return errors, meters


def _existing(meter_id, granularity, starts) -> dict:
    """The stored (volume, counter) of the given interval starts of one series."""
    found = {}
    starts = sorted(starts)
    if not starts:
        return found
    rows = db.session.execute(
        select(TelemetryPoint.starts_at, TelemetryPoint.volume, TelemetryPoint.counter_value).where(
            TelemetryPoint.metering_point_id == meter_id,
            TelemetryPoint.granularity == granularity,
            TelemetryPoint.starts_at >= starts[0],
            TelemetryPoint.starts_at <= starts[-1],
        )
    )
    for starts_at, volume, counter in rows:
        found[starts_at] = (volume, counter)
    return found


def _upsert(rows: list[dict]) -> None:
    """INSERT … ON CONFLICT (meter, granularity, start) DO UPDATE, as one executemany.

    SQLAlchemy sends it in batches of multi-row VALUES on PostgreSQL (insertmanyvalues) and as
    the driver's executemany on SQLite, from one compiled statement. The conflict clause also
    covers a concurrent request storing the same interval between our read and our write: the
    later value wins, never a unique-violation error."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(TelemetryPoint.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["metering_point_id", "granularity", "starts_at"],
        set_={
            "volume": statement.excluded.volume,
            "counter_value": statement.excluded.counter_value,
            "source": statement.excluded.source,
            "received_at": statement.excluded.received_at,
        },
    )
    db.session.execute(statement, rows)


def store_series(
    organisation_id, series: list[SeriesInput], *, source=TelemetrySource.API, now=None
) -> TelemetryResult:
    """Check every point, then store all of them or none (raises TelemetryRejected)."""
    now = now or utcnow()
    errors, meters = validate(organisation_id, series, now)
    if errors:
        raise TelemetryRejected(
            _l("Nothing was stored: correct the points listed in «errors»."), errors=errors
        )
    result = TelemetryResult()
    rows = []
    for one, meter in zip(series, meters, strict=True):
        outcome = SeriesResult(meter.id, meter.serial_number, str(one.granularity))
        stored = _existing(meter.id, one.granularity, [p.starts_at for p in one.points])
        for point in one.points:
            before = stored.get(point.starts_at)
            if before is not None and before == (point.volume, point.counter_value):
                outcome.unchanged += 1
                continue
            if before is None:
                outcome.created += 1
            else:
                outcome.updated += 1
            rows.append(
                {
                    "organisation_id": organisation_id,
                    "metering_point_id": meter.id,
                    "granularity": str(one.granularity),
                    "starts_at": point.starts_at,
                    "volume": point.volume,
                    "counter_value": point.counter_value,
                    "source": str(source),
                    "received_at": now,
                }
            )
        result.series.append(outcome)
    _upsert(rows)
    return result


# --- reading it back -------------------------------------------------------------------------


@dataclass
class DailyTotal:
    day: object
    volume: Decimal
    hours: int  # hourly points added up (0: the day came as a daily point)


def daily_totals(meter_id, days=31, today=None) -> list[DailyTotal]:
    """The meter's telemetry of the last `days` days, one total per local day, newest first.

    A day sent as a daily point shows that point; otherwise its hourly points are added up."""
    today = today or clock.local_today()
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=zone)
    rows = db.session.execute(
        select(TelemetryPoint.granularity, TelemetryPoint.starts_at, TelemetryPoint.volume)
        .where(
            TelemetryPoint.metering_point_id == meter_id,
            TelemetryPoint.starts_at >= since.astimezone(UTC),
        )
        .order_by(TelemetryPoint.starts_at)
    ).all()
    daily, hourly, hours = {}, defaultdict(Decimal), defaultdict(int)
    for granularity, starts_at, volume in rows:
        day = starts_at.astimezone(zone).date()
        if granularity == TelemetryGranularity.DAY:
            daily[day] = volume
        else:
            hourly[day] += volume
            hours[day] += 1
    result = [DailyTotal(day, volume, 0) for day, volume in daily.items()]
    result += [DailyTotal(day, hourly[day], hours[day]) for day in hourly if day not in daily]
    return sorted(result, key=lambda total: total.day, reverse=True)
