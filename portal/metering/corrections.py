"""Correcting a reading (the customer until the window closes, staff with a reason) and the
staff review of late, early and rolled-over readings."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.errors import UserError
from portal.extensions import db
from portal.metering.models import Reading, ReadingCorrection, ReadingSource
from portal.metering.readings import assess_reading, latest_readings, parse_volume
from portal.metering.window import submission_window


def customer_may_correct(reading: Reading, today: date | None = None) -> bool:
    window = submission_window(today or clock.local_today(), reading.period)
    return not window.is_closed


def correct_reading(
    reading: Reading,
    raw_value,
    user,
    *,
    reason: str | None = None,
    by_staff: bool = False,
    confirm_rollover: bool = False,
    today: date | None = None,
) -> ReadingCorrection:
    """Change a reading's value; customers only until the window closes, staff with a reason."""
    today = today or clock.local_today()
    reading = db.session.scalar(select(Reading).where(Reading.id == reading.id).with_for_update())
    if not by_staff and not customer_may_correct(reading, today):
        raise UserError(
            _l("The submission window has closed; ask your account manager to correct it."),
            "value",
        )
    if by_staff and not (reason and reason.strip()):
        raise UserError(_l("Give the reason for the correction."), "reason")
    value = parse_volume(raw_value, "value")
    if value == reading.value:
        raise UserError(_l("The new value is the same as the current one."), "value")
    meter = reading.metering_point
    previous = latest_readings([meter.id], before=reading.reading_date).get(meter.id)
    try:
        assessment = assess_reading(
            meter, previous, value, reading.reading_date, confirm_rollover=confirm_rollover
        )
        following = db.session.scalar(
            select(Reading)
            .where(
                Reading.metering_point_id == meter.id,
                Reading.reading_date > reading.reading_date,
            )
            .order_by(Reading.reading_date)
            .limit(1)
        )
        if following is not None:
            later = assess_reading(
                meter,
                _Snapshot(value, reading.reading_date),
                following.value,
                following.reading_date,
                confirm_rollover=following.rolled_over,
            )
    except UserError as error:
        raise UserError(error.message, "value") from error

    correction = ReadingCorrection(
        reading_id=reading.id,
        old_value=reading.value,
        new_value=value,
        reason=(reason or "").strip() or None,
        by_staff=by_staff,
        corrected_by_id=getattr(user, "id", None),
    )
    db.session.add(correction)
    reading.value = value
    reading.consumption = assessment.consumption
    reading.rolled_over = assessment.rolled_over
    reading.warning_code = assessment.warning.code if assessment.warning else None
    reading.warning_params = assessment.warning.params if assessment.warning else None
    if by_staff:
        reading.source = ReadingSource.STAFF
        reading.needs_review = False
    if following is not None:
        following.consumption = later.consumption
    db.session.flush()
    audit.record(
        "metering.reading_corrected",
        target=reading,
        organisation=reading.organisation_id,
        meter=meter.serial_number,
        old_value=str(correction.old_value),
        new_value=str(value),
        reason=correction.reason,
        by_staff=by_staff,
    )
    return correction


@dataclass
class _Snapshot:
    """A reading-like value used to re-check the following reading after a correction."""

    value: Decimal
    reading_date: date


def mark_reviewed(reading: Reading, user) -> None:
    reading.needs_review = False
    audit.record("metering.reading_reviewed", target=reading, organisation=reading.organisation_id)
    db.session.flush()


def readings_to_review(limit=200) -> list[Reading]:
    return list(
        db.session.scalars(
            select(Reading)
            .where(Reading.needs_review.is_(True))
            .options(selectinload(Reading.metering_point))
            .order_by(Reading.reading_date.desc(), Reading.id)
            .limit(limit)
        )
    )


def count_to_review() -> int:
    return db.session.scalar(select(func.count(Reading.id)).where(Reading.needs_review.is_(True)))
