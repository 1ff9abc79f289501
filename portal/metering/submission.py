"""Submitting a month's readings of many meters: every line checked, then all saved or none."""

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from portal import clock
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import format_volume, local_date
from portal.metering import photos
from portal.metering.models import MeteringPoint, Reading, ReadingSource
from portal.metering.readings import assess_reading, last_year_readings, parse_volume
from portal.metering.window import is_early, is_late


class ReadingsRejected(UserError):
    """A submission with errors, nothing saved: `details["errors"]` maps meter id to message."""


@dataclass
class ReadingInput:
    meter_id: int
    raw_value: object
    confirm_rollover: bool = False
    photo: object = None  # a FileStorage or None
    label: str = ""  # how the user identifies the line (serial number or file row)


@dataclass
class SubmissionResult:
    readings: list = field(default_factory=list)
    warnings: dict = field(default_factory=dict)  # meter id -> message


@cache
def _submission_state_query():
    """The statement of `_submission_state`, built once: aliases are costly to build per call."""
    current = aliased(Reading, name="current_reading")
    latest = aliased(Reading, name="latest_reading")
    newest = aliased(Reading, name="newest")
    newest_id = (
        select(newest.id)
        .where(newest.metering_point_id == MeteringPoint.id)
        .order_by(newest.reading_date.desc())
        .limit(1)
        .correlate(MeteringPoint)
        .scalar_subquery()
    )
    return (
        select(MeteringPoint, current, latest)
        .outerjoin(
            current,
            and_(
                current.metering_point_id == MeteringPoint.id,
                current.period == bindparam("period"),
            ),
        )
        .outerjoin(latest, latest.id == newest_id)
        .where(
            MeteringPoint.id.in_(bindparam("meter_ids", expanding=True)),
            MeteringPoint.organisation_id == bindparam("organisation_id"),
            MeteringPoint.is_active.is_(True),
        )
    )


def _submission_state(organisation_id, meter_ids, reading_date: date):
    """What validating a submission needs, in two queries.

    Only active meters of the organisation are returned (ids come from the client). For each:
    its reading of the month of `reading_date` (if any), its latest reading (the same
    correlated "ORDER BY reading_date DESC LIMIT 1" as `latest_readings`) and, in a second
    query, its readings around the same dates a year earlier (as `last_year_readings`). A
    submission's time is mostly round trips.
    """
    period = clock.month_start(reading_date)
    rows = db.session.execute(
        _submission_state_query(),
        {
            "period": period,
            "meter_ids": list(meter_ids),
            "organisation_id": organisation_id,
        },
    ).all()
    meters, existing, latest = {}, {}, {}
    for meter, this_month, newest_reading in rows:
        meters[meter.id] = meter
        if this_month is not None:
            existing[meter.id] = this_month
        if newest_reading is not None:
            latest[meter.id] = newest_reading
    reference = {}
    if latest:
        since = min(reading.reading_date for reading in latest.values())
        reference = last_year_readings(latest, min(since, reading_date), reading_date)
    return meters, existing, latest, reference


def submit_readings(
    organisation_id,
    user,
    reading_date: date,
    inputs: list[ReadingInput],
    *,
    source=ReadingSource.FORM,
    today: date | None = None,
) -> SubmissionResult:
    """Validate every line, then save all readings or none (raises ReadingsRejected)."""
    today = today or clock.local_today()
    if reading_date > today:
        raise UserError(_l("The reading date cannot be in the future."), "reading_date")
    inputs = [line for line in inputs if str(line.raw_value or "").strip()]
    if not inputs:
        raise UserError(_l("Enter at least one reading."))
    period = clock.month_start(reading_date)
    meters, existing, latest, last_year = _submission_state(
        organisation_id, [line.meter_id for line in inputs], reading_date
    )
    errors, accepted = {}, []
    for line in inputs:
        meter = meters.get(line.meter_id)
        if meter is None:
            errors[line.meter_id] = _("This meter is not one of your organisation's meters.")
            continue
        try:
            value = parse_volume(line.raw_value)
            photo = photos.check_photo(line.photo)
            already = existing.get(meter.id)
            if already is not None:
                raise UserError(
                    _(
                        "A reading for this month was already submitted (%(value)s on %(date)s); "
                        "correct it instead of submitting a second one.",
                        value=format_volume(already.value),
                        date=local_date(already.reading_date),
                    )
                )
            previous = latest.get(meter.id)
            if previous is not None and previous.reading_date >= reading_date:
                raise UserError(
                    _(
                        "The last reading of this meter is dated %(date)s; "
                        "a new reading must be dated later.",
                        date=local_date(previous.reading_date),
                    )
                )
            assessment = assess_reading(
                meter,
                previous,
                value,
                reading_date,
                confirm_rollover=line.confirm_rollover,
                last_year=last_year.get(meter.id, []),
            )
        except UserError as error:
            errors[line.meter_id] = str(error.message)
            continue
        accepted.append((meter, value, assessment, photo))
    if errors:
        raise ReadingsRejected(_l("Nothing was saved: correct the marked readings."), errors=errors)

    late = is_late(reading_date, today)
    early = is_early(reading_date, today)
    result = SubmissionResult()
    stored_photos = []
    rows = []
    for meter, value, assessment, photo in accepted:
        photo_name = photos.store_photo(*photo) if photo else None
        if photo_name:
            stored_photos.append(photo_name)
        row = {
            "organisation_id": organisation_id,
            "metering_point_id": meter.id,
            "period": period,
            "reading_date": reading_date,
            "value": value,
            "consumption": assessment.consumption,
            "rolled_over": assessment.rolled_over,
            "source": source,
            "is_late": late,
            "is_early": early,
            "needs_review": late or early or assessment.rolled_over,
            "warning_code": assessment.warning.code if assessment.warning else None,
            "warning_params": assessment.warning.params if assessment.warning else None,
            "photo_name": photo_name,
            "entered_by_id": getattr(user, "id", None),
        }
        rows.append(row)
        # What was saved, for the messages; not in the session (nothing is read back).
        reading = Reading(**row)
        reading.metering_point = meter
        result.readings.append(reading)
        if assessment.warning:
            result.warnings[meter.id] = assessment.warning.message
    if _insert_new(rows) < len(rows):
        # Someone else (another tab, a colleague) saved the same month a moment earlier: the
        # refusal rolls back the lines that were inserted (the request's transaction rule).
        photos.forget_photos(stored_photos)
        raise UserError(
            _l("Readings for this month were just submitted by someone else. Reload the page.")
        )
    return result


def _insert_new(rows) -> int:
    """One multi-row INSERT without the unit of work (a quarter of a submission's time).

    A month already saved is skipped (ON CONFLICT DO NOTHING) rather than raised as an
    IntegrityError, which on PostgreSQL would end the transaction the refused page still
    reads from; the number of rows inserted tells the caller."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Reading)
        .on_conflict_do_nothing(index_elements=["metering_point_id", "period"])
        .returning(Reading.id)
    )
    return len(db.session.execute(statement, rows).all())
