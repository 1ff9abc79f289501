"""Readings: what a meter's form row, history and panel show, and the checks of a new value
(a number, within the drum's digits and the meter's maximum flow, compared with last year)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import format_volume, local_date
from portal.metering.models import MeteringPoint, Reading
from portal.metering.warnings import ReadingWarning, deviation_warning, year_before
from portal.metering.window import submission_window
from portal.validators import NumberError, parse_decimal


def deviation_share() -> Decimal:
    return Decimal(str(current_app.config.get("READING_DEVIATION_SHARE", "0.5")))


def active_meters_of(organisation_id):
    """The condition for the organisation's meters in service (the readings form's meters)."""
    return and_(MeteringPoint.organisation_id == organisation_id, MeteringPoint.is_active.is_(True))


def organisation_meters(organisation_id) -> list[MeteringPoint]:
    return list(
        db.session.scalars(
            select(MeteringPoint)
            .where(active_meters_of(organisation_id))
            .options(selectinload(MeteringPoint.contract))
            .order_by(MeteringPoint.contract_id, MeteringPoint.serial_number)
        )
    )


def latest_readings(meter_ids, before: date | None = None) -> dict[int, Reading]:
    """The latest reading of each meter (optionally before a date), in one query.

    A correlated "ORDER BY reading_date DESC LIMIT 1" per meter is one backward step on the
    (metering_point_id, reading_date) index; a GROUP BY over the IN list read every reading
    of the meters (100 per meter on the benchmark database).
    """
    if not meter_ids:
        return {}
    newest = (
        select(Reading.id)
        .where(Reading.metering_point_id == MeteringPoint.id)
        .order_by(Reading.reading_date.desc())
        .limit(1)
    )
    if before is not None:
        newest = newest.where(Reading.reading_date < before)
    newest_ids = select(newest.correlate(MeteringPoint).scalar_subquery()).where(
        MeteringPoint.id.in_(meter_ids)
    )
    rows = db.session.scalars(select(Reading).where(Reading.id.in_(newest_ids)))
    return {reading.metering_point_id: reading for reading in rows}


def period_readings(meter_ids, period: date) -> dict[int, Reading]:
    if not meter_ids:
        return {}
    rows = db.session.scalars(
        select(Reading).where(Reading.metering_point_id.in_(meter_ids), Reading.period == period)
    )
    return {reading.metering_point_id: reading for reading in rows}


@dataclass
class FormRow:
    meter: MeteringPoint
    previous: Reading | None
    current: Reading | None
    can_correct: bool = False


def readings_form_rows(organisation_id, today: date | None = None) -> list[FormRow]:
    """Every meter of the organisation with its previous reading and this month's, if any."""
    today = today or clock.local_today()
    window = submission_window(today)
    meters = organisation_meters(organisation_id)
    ids = [m.id for m in meters]
    current = period_readings(ids, window.period)
    previous = latest_readings(ids, before=window.period)
    return [
        FormRow(
            meter,
            previous.get(meter.id),
            current.get(meter.id),
            can_correct=meter.id in current and not window.is_closed,
        )
        for meter in meters
    ]


def meters_without_reading(organisation_id, period: date) -> list[MeteringPoint]:
    submitted = select(Reading.metering_point_id).where(
        Reading.organisation_id == organisation_id, Reading.period == period
    )
    return list(
        db.session.scalars(
            select(MeteringPoint)
            .where(active_meters_of(organisation_id), MeteringPoint.id.not_in(submitted))
            .order_by(MeteringPoint.serial_number)
        )
    )


def gas_panel_summary(organisation_id) -> dict:
    window = submission_window()
    return {
        "window": window,
        "missing": meters_without_reading(organisation_id, window.period),
        "meter_count": db.session.scalar(
            select(func.count(MeteringPoint.id)).where(active_meters_of(organisation_id))
        ),
    }


def group_by_contract(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.meter.contract].append(row)
    return grouped


def meter_history(meter_id) -> list[Reading]:
    return list(
        db.session.scalars(
            select(Reading)
            .where(Reading.metering_point_id == meter_id)
            .options(selectinload(Reading.corrections), selectinload(Reading.entered_by))
            .order_by(Reading.reading_date.desc())
        )
    )


VOLUME_DIGITS = 11  # before the decimal point: the Volume column (Numeric(14, 3)) holds no more


def parse_volume(raw, field: str | None = None) -> Decimal:
    """A meter value typed by a person: digits with a dot or comma, not negative; a refusal
    names `field`."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise UserError(_l("Enter the reading."), field)
    try:
        value = parse_decimal(text, max_digits=VOLUME_DIGITS)
    except NumberError as error:
        if error.reason == "format":
            message = _l("Enter the reading as a number, e.g. 12345.6.")
            raise UserError(message, field) from error
        raise UserError(error.message, field) from error
    if value < 0:
        raise UserError(_l("A reading cannot be negative."), field)
    if value != value.quantize(Decimal("0.001")):
        raise UserError(_l("Use at most three decimal places."), field)
    return value


_UNKNOWN = object()  # "not preloaded": look the last-year consumption up


@dataclass
class Assessment:
    consumption: Decimal | None
    rolled_over: bool = False
    warning: ReadingWarning | None = None


def assess_reading(
    meter: MeteringPoint,
    previous: Reading | None,
    value: Decimal,
    reading_date: date,
    *,
    confirm_rollover: bool = False,
    last_year=_UNKNOWN,
) -> Assessment:
    """Check a new value against the previous reading; raise UserError on a refusal.

    `last_year` is the meter's preloaded readings around the same dates a year earlier, as
    (reading_date, consumption) pairs (see `last_year_readings`).
    """
    if value >= meter.rollover_modulus:
        raise UserError(_("The meter shows at most %(digits)s digits.", digits=meter.digits))
    if previous is None:
        return Assessment(consumption=None)
    rolled_over = False
    if value < previous.value:
        if not confirm_rollover:
            raise UserError(
                _(
                    "The reading is lower than the previous one (%(previous)s on %(date)s). "
                    "If the meter rolled over past zero, tick the confirmation.",
                    previous=format_volume(previous.value),
                    date=local_date(previous.reading_date),
                )
            )
        consumption = meter.rollover_modulus - previous.value + value
        rolled_over = True
    else:
        consumption = value - previous.value
    hours = (reading_date - previous.reading_date).days * 24
    limit = meter.max_flow * hours
    if consumption > limit:
        raise UserError(
            _(
                "Consumption of %(volume)s m³ is more than the meter can pass: "
                "%(flow)s m³/h × %(hours)s h = %(limit)s m³. Check the reading.",
                volume=format_volume(consumption),
                flow=format_volume(meter.max_flow),
                hours=hours,
                limit=format_volume(limit),
            )
        )
    if last_year is _UNKNOWN:
        last_year = last_year_readings([meter.id], previous.reading_date, reading_date)
        last_year = last_year.get(meter.id, [])
    warning = deviation_warning(
        consumption, previous.reading_date, reading_date, last_year or [], deviation_share()
    )
    return Assessment(consumption, rolled_over, warning)


# Last year's readings are read this far around the span: monthly readings always fall inside.
_REFERENCE_MARGIN = timedelta(days=92)


def last_year_readings(meter_ids, since: date, until: date) -> dict[int, list]:
    """(reading_date, consumption) of each meter around `since`..`until` a year earlier."""
    if not meter_ids:
        return {}
    rows = db.session.execute(
        select(Reading.metering_point_id, Reading.reading_date, Reading.consumption)
        .where(
            Reading.metering_point_id.in_(list(meter_ids)),
            Reading.reading_date.between(
                year_before(since) - _REFERENCE_MARGIN, year_before(until) + _REFERENCE_MARGIN
            ),
        )
        .order_by(Reading.metering_point_id, Reading.reading_date)
    )
    found = defaultdict(list)
    for meter_id, reading_date, consumption in rows:
        found[meter_id].append((reading_date, consumption))
    return dict(found)
