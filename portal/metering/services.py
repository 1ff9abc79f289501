"""Gas metering rules: the submission window, reading validation, corrections, settlement."""

import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from portal import audit, clock
from portal.billing.models import GasCharge
from portal.documents import storage
from portal.extensions import db
from portal.files import store as file_store
from portal.formatting import format_volume, local_date
from portal.metering.models import (
    Contract,
    MeteringPoint,
    Reading,
    ReadingCorrection,
    ReadingReminder,
    ReadingSource,
    Tariff,
)
from portal.metering.warnings import ReadingWarning, deviation_warning, year_before
from portal.money import MoneyError, to_money
from portal.organisations.models import Membership, Organisation, OrganisationKind, Power
from portal.validators import NumberError, parse_decimal, parse_whole

PHOTO_SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
# Meter photos pass the one upload check (portal/documents/storage.py), images only.
PHOTO_TYPES = {storage.JPEG: "jpg", storage.PNG: "png"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
THOUSAND = Decimal(1000)


class MeteringError(ValueError):
    """A business rule refused the request; the message is shown to the user."""

    def __init__(self, message, field_name=None):
        super().__init__(str(message))
        self.message = message
        self.field_name = field_name


class ReadingsRejected(MeteringError):
    """A submission with errors: nothing is saved; `errors` maps meter id to its message."""

    def __init__(self, errors: dict, message=None):
        super().__init__(message or _l("Nothing was saved: correct the marked readings."))
        self.errors = errors


# --- time and the submission window -------------------------------------------------------


def local_today() -> date:
    return clock.local_today()


def month_start(day: date) -> date:
    return day.replace(day=1)


def _month_label(period: date) -> str:
    return period.strftime("%m.%Y")


def previous_month(period: date) -> date:
    return month_start(period - timedelta(days=1))


def day_in_month(period: date, day: int) -> date:
    next_month = month_start(period + timedelta(days=32))
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

    @property
    def not_yet_open(self) -> bool:
        return self.today < self.opens


def submission_window(today: date | None = None, period: date | None = None) -> SubmissionWindow:
    """The window of a month (default: the current one), from the configured days."""
    today = today or local_today()
    period = period or month_start(today)
    start = int(current_app.config.get("READING_WINDOW_START", 20))
    end = int(current_app.config.get("READING_WINDOW_END", 25))
    return SubmissionWindow(period, day_in_month(period, start), day_in_month(period, end), today)


def is_late(reading_date: date, today: date) -> bool:
    return today > submission_window(today, month_start(reading_date)).closes


def is_early(reading_date: date, today: date) -> bool:
    """Submitted before the window of the reading's month opened: accepted, marked early."""
    return today < submission_window(today, month_start(reading_date)).opens


def deviation_share() -> Decimal:
    return Decimal(str(current_app.config.get("READING_DEVIATION_SHARE", "0.5")))


# --- reading queries -------------------------------------------------------------------------


def organisation_meters(organisation_id) -> list[MeteringPoint]:
    return list(
        db.session.scalars(
            select(MeteringPoint)
            .where(
                MeteringPoint.organisation_id == organisation_id,
                MeteringPoint.is_active.is_(True),
            )
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
    today = today or local_today()
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
            .where(
                MeteringPoint.organisation_id == organisation_id,
                MeteringPoint.is_active.is_(True),
                MeteringPoint.id.not_in(submitted),
            )
            .order_by(MeteringPoint.serial_number)
        )
    )


# --- validation --------------------------------------------------------------------------------


VOLUME_DIGITS = 11  # before the decimal point: the Volume column (Numeric(14, 3)) holds no more


def parse_volume(raw) -> Decimal:
    """A meter value typed by a person: digits with a dot or comma, not negative."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise MeteringError(_l("Enter the reading."))
    try:
        value = parse_decimal(text, max_digits=VOLUME_DIGITS)
    except NumberError as error:
        if error.reason == "format":
            raise MeteringError(_l("Enter the reading as a number, e.g. 12345.6.")) from error
        raise MeteringError(error.message) from error
    if value < 0:
        raise MeteringError(_l("A reading cannot be negative."))
    if value != value.quantize(Decimal("0.001")):
        raise MeteringError(_l("Use at most three decimal places."))
    return value


_fmt_volume = format_volume


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
    """Check a new value against the previous reading; raise MeteringError on a refusal.

    `last_year` is the meter's preloaded readings around the same dates a year earlier, as
    (reading_date, consumption) pairs (see `last_year_readings`).
    """
    if value >= meter.rollover_modulus:
        raise MeteringError(_("The meter shows at most %(digits)s digits.", digits=meter.digits))
    if previous is None:
        return Assessment(consumption=None)
    rolled_over = False
    if value < previous.value:
        if not confirm_rollover:
            raise MeteringError(
                _(
                    "The reading is lower than the previous one (%(previous)s on %(date)s). "
                    "If the meter rolled over past zero, tick the confirmation.",
                    previous=_fmt_volume(previous.value),
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
        raise MeteringError(
            _(
                "Consumption of %(volume)s m³ is more than the meter can pass: "
                "%(flow)s m³/h × %(hours)s h = %(limit)s m³. Check the reading.",
                volume=_fmt_volume(consumption),
                flow=_fmt_volume(meter.max_flow),
                hours=hours,
                limit=_fmt_volume(limit),
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


def check_photo(upload) -> tuple[bytes, str] | None:
    """Return (content, extension) of a JPEG/PNG photo judged by its bytes, or None if empty."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    content = upload.read(MAX_PHOTO_BYTES + 1)
    if not content:
        return None
    if len(content) > MAX_PHOTO_BYTES:
        raise MeteringError(_l("The photo is larger than 10 MB."))
    try:
        content_type = storage.detect_type(content, allowed=PHOTO_TYPES)
    except storage.FileRefused as refusal:
        message = refusal.message
        if not any(content.startswith(signature) for signature in PHOTO_SIGNATURES):
            message = _l("The photo must be a JPEG or PNG image.")
        raise MeteringError(message) from refusal
    return content, PHOTO_TYPES[content_type]


def photo_directory() -> Path:
    """The photos' folder of the local-disk file store (portal/files/store.py)."""
    return Path(current_app.config["UPLOAD_DIR"]) / "metering"


def photo_key(photo_name: str | None) -> str | None:
    """The file store key of a reading's photo (`Reading.photo_name`)."""
    return f"metering/{Path(photo_name).name}" if photo_name else None


def _store_photo(content: bytes, extension: str) -> str:
    name = f"{uuid.uuid4().hex}.{extension}"
    try:  # the object first, the row after; an unreachable store refuses the submission
        mimetype = "image/png" if extension == "png" else "image/jpeg"
        file_store.files().put(photo_key(name), content, mimetype)
    except file_store.StoreUnavailable as error:
        raise MeteringError(error.message) from error
    return name


# --- submitting and correcting -----------------------------------------------------------------


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
    period = month_start(reading_date)
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
    today = today or local_today()
    if reading_date > today:
        raise MeteringError(_l("The reading date cannot be in the future."), "reading_date")
    inputs = [line for line in inputs if str(line.raw_value or "").strip()]
    if not inputs:
        raise MeteringError(_l("Enter at least one reading."))
    period = month_start(reading_date)
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
            photo = check_photo(line.photo)
            already = existing.get(meter.id)
            if already is not None:
                raise MeteringError(
                    _(
                        "A reading for this month was already submitted (%(value)s on %(date)s); "
                        "correct it instead of submitting a second one.",
                        value=_fmt_volume(already.value),
                        date=local_date(already.reading_date),
                    )
                )
            previous = latest.get(meter.id)
            if previous is not None and previous.reading_date >= reading_date:
                raise MeteringError(
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
        except MeteringError as error:
            errors[line.meter_id] = str(error.message)
            continue
        accepted.append((meter, value, assessment, photo))
    if errors:
        raise ReadingsRejected(errors)

    late = is_late(reading_date, today)
    early = is_early(reading_date, today)
    result = SubmissionResult()
    stored_photos = []
    rows = []
    for meter, value, assessment, photo in accepted:
        photo_name = _store_photo(*photo) if photo else None
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
    try:
        # One multi-row INSERT without the unit of work (a quarter of a submission's time).
        db.session.execute(insert(Reading), rows)
    except IntegrityError as error:
        # Someone else (another tab, a colleague) saved the same month a moment earlier.
        for name in stored_photos:
            with contextlib.suppress(file_store.StoreUnavailable):
                file_store.files().delete(photo_key(name))
        raise MeteringError(
            _l("Readings for this month were just submitted by someone else. Reload the page.")
        ) from error
    return result


def customer_may_correct(reading: Reading, today: date | None = None) -> bool:
    window = submission_window(today or local_today(), reading.period)
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
    today = today or local_today()
    reading = db.session.scalar(select(Reading).where(Reading.id == reading.id).with_for_update())
    if not by_staff and not customer_may_correct(reading, today):
        raise MeteringError(
            _l("The submission window has closed; ask your account manager to correct it."),
            "value",
        )
    if by_staff and not (reason and reason.strip()):
        raise MeteringError(_l("Give the reason for the correction."), "reason")
    try:
        value = parse_volume(raw_value)
    except MeteringError as error:
        raise MeteringError(error.message, "value") from error
    if value == reading.value:
        raise MeteringError(_l("The new value is the same as the current one."), "value")
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
    except MeteringError as error:
        raise MeteringError(error.message, "value") from error

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


# --- history and chart ------------------------------------------------------------------------


def meter_history(meter_id) -> list[Reading]:
    return list(
        db.session.scalars(
            select(Reading)
            .where(Reading.metering_point_id == meter_id)
            .options(selectinload(Reading.corrections), selectinload(Reading.entered_by))
            .order_by(Reading.reading_date.desc())
        )
    )


def contract_consumption(contract_id) -> list[tuple[date, Decimal, int]]:
    """(period, total consumption, readings) of a contract's meters, newest first."""
    rows = db.session.execute(
        select(Reading.period, func.sum(Reading.consumption), func.count(Reading.id))
        .join(MeteringPoint, MeteringPoint.id == Reading.metering_point_id)
        .where(MeteringPoint.contract_id == contract_id)
        .group_by(Reading.period)
        .order_by(Reading.period.desc())
    )
    return [(period, total or Decimal(0), count) for period, total, count in rows]


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal
    label: str


@dataclass
class Chart:
    """Geometry of a two-series bar chart (this year vs last year), drawn as SVG in a template."""

    this_year: int
    last_year: int
    bars_this: list
    bars_last: list
    months: list  # (x, label)
    gridlines: list  # (y, label)
    width: int = 720
    height: int = 282
    plot_top: int = 10
    plot_bottom: int = 220
    plot_left: int = 56


def consumption_chart(by_period: dict[date, Decimal], year: int, month_names) -> Chart:
    """Bars per month for `year` and `year - 1` from {period: consumption}."""
    chart = Chart(year, year - 1, [], [], [], [])
    values = [
        by_period.get(date(y, m, 1)) or Decimal(0) for y in (year, year - 1) for m in range(1, 13)
    ]
    top = max(values + [Decimal(1)])
    scale = _nice_ceiling(top)
    plot_height = chart.plot_bottom - chart.plot_top
    slot = (chart.width - chart.plot_left - 8) / 12
    bar = slot * 0.36
    for index in range(12):
        left = chart.plot_left + index * slot
        chart.months.append((left + slot / 2, month_names[index]))
        for series, offset, y in ((chart.bars_last, 0.12, year - 1), (chart.bars_this, 0.52, year)):
            value = by_period.get(date(y, index + 1, 1)) or Decimal(0)
            height = float(value / scale) * plot_height
            series.append(
                ChartBar(
                    x=round(left + slot * offset, 1),
                    y=round(chart.plot_bottom - height, 1),
                    width=round(bar, 1),
                    height=round(height, 1),
                    value=value,
                    label=f"{month_names[index]} {y}",
                )
            )
    for step in range(5):
        fraction = Decimal(step) / 4
        y = chart.plot_bottom - float(fraction) * plot_height
        chart.gridlines.append((round(y, 1), _fmt_volume((scale * fraction).normalize())))
    return chart


def _nice_ceiling(value: Decimal) -> Decimal:
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        candidate = magnitude * Decimal(str(factor))
        if candidate >= value:
            return candidate
    return magnitude * 10


# --- reminders ---------------------------------------------------------------------------------


def send_reading_reminders(today: date | None = None, *, days_before=None) -> int:
    """E-mail members who submit readings when meters lack this month's reading near the close."""
    from portal.accounts.models import User
    from portal.mail import send_mail

    today = today or local_today()
    window = submission_window(today)
    days_before = int(
        days_before
        if days_before is not None
        else current_app.config.get("READING_REMINDER_DAYS", 2)
    )
    if not (window.closes - timedelta(days=days_before) <= today <= window.closes):
        return 0
    sent = 0
    organisations = db.session.scalars(
        select(Organisation).where(
            Organisation.kind == OrganisationKind.GAS, Organisation.is_active.is_(True)
        )
    )
    for organisation in organisations:
        missing = meters_without_reading(organisation.id, window.period)
        if not missing:
            continue
        members = db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.is_blocked.is_(False),
                User.notify_reading_reminders.is_(True),
            )
        )
        for membership in members:
            user = membership.user
            if not membership.has(Power.SUBMIT_READINGS) or not user.is_active:
                continue
            already = db.session.scalar(
                select(ReadingReminder.id).where(
                    ReadingReminder.user_id == user.id,
                    ReadingReminder.organisation_id == organisation.id,
                    ReadingReminder.period == window.period,
                )
            )
            if already:
                continue
            db.session.add(
                ReadingReminder(
                    user_id=user.id, organisation_id=organisation.id, period=window.period
                )
            )
            send_mail(
                user.email,
                _l("Meter readings are due by %(date)s", date=window.closes.strftime("%d.%m.%Y")),
                "metering/mail/reading_reminder",
                user.language,
                user=user,
                organisation=organisation,
                window=window,
                missing=missing,
            )
            sent += 1
    db.session.flush()
    return sent


def gas_panel_summary(organisation_id) -> dict:
    window = submission_window()
    return {
        "window": window,
        "missing": meters_without_reading(organisation_id, window.period),
        "meter_count": db.session.scalar(
            select(func.count(MeteringPoint.id)).where(
                MeteringPoint.organisation_id == organisation_id,
                MeteringPoint.is_active.is_(True),
            )
        ),
    }


def group_by_contract(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.meter.contract].append(row)
    return grouped


# --- staff: contracts, tariffs, metering points --------------------------------------------------

MIN_DIGITS, MAX_DIGITS = 4, 10


def _clean(text) -> str:
    return (text or "").strip()


def _parse_price(raw) -> Decimal:
    try:
        price = to_money(raw)
    except MoneyError as error:
        raise MeteringError(_l("Enter the price as a number."), "price_per_thousand") from error
    if price <= 0:
        raise MeteringError(_l("The price must be positive."), "price_per_thousand")
    return price


def _vat_category(value) -> str:
    from portal.billing.models import VatCategory

    try:
        return VatCategory(value or "general").value
    except ValueError as error:
        raise MeteringError(_l("Choose the VAT category."), "vat_category") from error


def _check_contract_fields(organisation_id, number, start_date, end_date, contract_id=None):
    if not number:
        raise MeteringError(_l("Enter the contract number."), "number")
    if end_date is not None and end_date < start_date:
        raise MeteringError(_l("The end date cannot be before the start date."), "end_date")
    taken = db.session.scalar(select(Contract.id).where(Contract.number == number))
    if taken is not None and taken != contract_id:
        raise MeteringError(_l("A contract with this number already exists."), "number")


def _flush_unique(field_name, message):
    """Flush; a unique violation from a concurrent save becomes a message next to the field."""
    try:
        db.session.flush()
    except IntegrityError as error:
        # The failed flush leaves the session unusable, and building the translated message
        # needs it (the locale comes from the user): undo now, the view's rollback is then a no-op.
        db.session.rollback()
        raise MeteringError(message, field_name) from error


def create_contract(
    organisation, number, start_date, end_date, price, *, vat_category="general"
) -> Contract:
    """A new contract of a gas customer with its first tariff, in force from the start date."""
    if not organisation.is_gas:
        raise MeteringError(_l("Contracts are only for gas customers."), "number")
    number = _clean(number)
    _check_contract_fields(organisation.id, number, start_date, end_date)
    price = _parse_price(price)
    contract = Contract(
        organisation_id=organisation.id, number=number, start_date=start_date, end_date=end_date
    )
    vat_category = _vat_category(vat_category)
    contract.tariffs = [
        Tariff(valid_from=start_date, price_per_thousand=price, vat_category=vat_category)
    ]
    db.session.add(contract)
    _flush_unique("number", _l("A contract with this number already exists."))
    audit.record(
        "metering.contract_created",
        target=contract,
        organisation=organisation,
        number=number,
        start_date=start_date.isoformat(),
        end_date=end_date.isoformat() if end_date else None,
        price_per_thousand=str(price),
        vat_category=vat_category,
    )
    return contract


def last_charged_period(contract_id) -> date | None:
    return db.session.scalar(
        select(func.max(GasCharge.period)).where(GasCharge.contract_id == contract_id)
    )


def update_contract(
    contract: Contract, number, start_date, end_date, *, gas_act_required=None
) -> Contract:
    """Change a contract; `gas_act_required` None leaves the gas-act flag as it is."""
    number = _clean(number)
    _check_contract_fields(contract.organisation_id, number, start_date, end_date, contract.id)
    first_tariff = contract.tariffs[0].valid_from if contract.tariffs else None
    if first_tariff is not None and start_date > first_tariff:
        raise MeteringError(
            _(
                "The contract has a tariff from %(date)s: it cannot start later.",
                date=local_date(first_tariff),
            ),
            "start_date",
        )
    charged = last_charged_period(contract.id)
    if charged is not None and end_date is not None and end_date < charged:
        raise MeteringError(
            _(
                "Gas is already charged under this contract for %(month)s: it cannot end earlier.",
                month=_month_label(charged),
            ),
            "end_date",
        )
    before = {
        "number": contract.number,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
        "gas_act_required": bool(contract.gas_act_required),
    }
    contract.number, contract.start_date, contract.end_date = number, start_date, end_date
    if gas_act_required is not None:
        contract.gas_act_required = bool(gas_act_required)
    _flush_unique("number", _l("A contract with this number already exists."))
    after = {
        "number": number,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat() if end_date else None,
        "gas_act_required": bool(contract.gas_act_required),
    }
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(
            "metering.contract_updated",
            target=contract,
            organisation=contract.organisation_id,
            **changes,
        )
    return contract


def add_tariff(contract: Contract, valid_from: date, price, *, vat_category="general") -> Tariff:
    """A new price from a date; periods already charged keep the price they were charged at."""
    price = _parse_price(price)
    vat_category = _vat_category(vat_category)
    if valid_from < contract.start_date:
        raise MeteringError(
            _(
                "The contract starts on %(date)s; a tariff cannot start earlier.",
                date=local_date(contract.start_date),
            ),
            "valid_from",
        )
    if contract.end_date is not None and valid_from > contract.end_date:
        raise MeteringError(
            _(
                "The contract ends on %(date)s; a tariff cannot start later.",
                date=local_date(contract.end_date),
            ),
            "valid_from",
        )
    # The charge run locks the contract too: no charge can be posted between check and insert.
    db.session.scalar(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    charged = last_charged_period(contract.id)
    if charged is not None and month_start(valid_from) <= charged:
        raise MeteringError(
            _(
                "Gas is already charged under this contract up to %(month)s: a tariff can "
                "only start from %(first)s or later.",
                month=_month_label(charged),
                first=local_date(month_start(charged + timedelta(days=32))),
            ),
            "valid_from",
        )
    if any(tariff.valid_from == valid_from for tariff in contract.tariffs):
        raise MeteringError(_l("The contract already has a tariff from this date."), "valid_from")
    tariff = Tariff(
        contract_id=contract.id,
        valid_from=valid_from,
        price_per_thousand=price,
        vat_category=vat_category,
    )
    db.session.add(tariff)
    _flush_unique("valid_from", _l("The contract already has a tariff from this date."))
    db.session.refresh(contract, ["tariffs"])
    audit.record(
        "metering.tariff_added",
        target=contract,
        organisation=contract.organisation_id,
        valid_from=valid_from.isoformat(),
        price_per_thousand=str(price),
        vat_category=vat_category,
    )
    return tariff


@dataclass
class MeterFields:
    contract_id: object
    serial_number: str
    model: str
    digits: object
    max_flow: object
    verification_due: date | None
    address: str


def _organisation_contract(organisation, contract_id):
    if contract_id in (None, "", 0):
        return None
    contract = db.session.get(Contract, int(contract_id))
    if contract is None or contract.organisation_id != organisation.id:
        raise MeteringError(_l("Choose one of this organisation's contracts."), "contract_id")
    return contract.id


def _checked_meter_fields(organisation, fields: MeterFields, meter_id=None) -> dict:
    contract_id = _organisation_contract(organisation, fields.contract_id)
    if contract_id is None:
        raise MeteringError(_l("Choose one of this organisation's contracts."), "contract_id")
    serial = _clean(fields.serial_number)
    if not serial:
        raise MeteringError(_l("Enter the serial number."), "serial_number")
    taken = db.session.scalar(select(MeteringPoint.id).where(MeteringPoint.serial_number == serial))
    if taken is not None and taken != meter_id:
        raise MeteringError(_l("A meter with this serial number already exists."), "serial_number")
    model = _clean(fields.model)
    if not model:
        raise MeteringError(_l("Enter the meter model."), "model")
    try:
        digits = parse_whole(fields.digits, max_digits=2)
    except NumberError as error:
        message = _l("Enter the number of digits as a whole number.")
        raise MeteringError(message, "digits") from error
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise MeteringError(
            _("A meter has from %(low)s to %(high)s digits.", low=MIN_DIGITS, high=MAX_DIGITS),
            "digits",
        )
    try:
        max_flow = parse_decimal(fields.max_flow, max_digits=8)
    except NumberError as error:
        raise MeteringError(_l("Enter the maximum flow as a number."), "max_flow") from error
    if not max_flow.is_finite() or max_flow <= 0:
        raise MeteringError(_l("The maximum flow must be greater than zero."), "max_flow")
    if max_flow >= Decimal("100000000") or max_flow != max_flow.quantize(Decimal("0.01")):
        raise MeteringError(
            _l("Enter the maximum flow with at most two decimal places."), "max_flow"
        )
    address = _clean(fields.address)
    if not address:
        raise MeteringError(_l("Enter the address."), "address")
    return {
        "contract_id": contract_id,
        "serial_number": serial,
        "model": model,
        "digits": digits,
        "max_flow": max_flow,
        "verification_due": fields.verification_due,
        "address": address,
    }


def _audit_meter_values(values: dict) -> dict:
    return {
        key: value.isoformat() if isinstance(value, date) else str(value) if value else value
        for key, value in values.items()
    }


def create_meter(
    organisation, fields: MeterFields, initial_value, initial_date: date, user
) -> MeteringPoint:
    """A new metering point with the reading it starts from (consumption counts from there)."""
    if not organisation.is_gas:
        raise MeteringError(_l("Meters are only for gas customers."), "serial_number")
    values = _checked_meter_fields(organisation, fields)
    try:
        value = parse_volume(initial_value)
    except MeteringError as error:
        raise MeteringError(error.message, "initial_value") from error
    if value >= Decimal(10) ** values["digits"]:
        raise MeteringError(
            _("The meter shows at most %(digits)s digits.", digits=values["digits"]),
            "initial_value",
        )
    if initial_date > local_today():
        raise MeteringError(_l("The reading date cannot be in the future."), "initial_date")
    meter = MeteringPoint(organisation_id=organisation.id, is_active=True, **values)
    db.session.add(meter)
    _flush_unique("serial_number", _l("A meter with this serial number already exists."))
    reading = Reading(
        organisation_id=organisation.id,
        metering_point_id=meter.id,
        period=month_start(initial_date),
        reading_date=initial_date,
        value=value,
        consumption=None,
        source=ReadingSource.STAFF,
        entered_by_id=getattr(user, "id", None),
    )
    db.session.add(reading)
    db.session.flush()
    audit.record(
        "metering.meter_created",
        target=meter,
        organisation=organisation,
        initial_value=str(value),
        initial_date=initial_date.isoformat(),
        **_audit_meter_values(values),
    )
    return meter


def update_meter(meter: MeteringPoint, fields: MeterFields) -> MeteringPoint:
    organisation = db.session.get(Organisation, meter.organisation_id)
    values = _checked_meter_fields(organisation, fields, meter.id)
    highest = db.session.scalar(
        select(func.max(Reading.value)).where(Reading.metering_point_id == meter.id)
    )
    if highest is not None and highest >= Decimal(10) ** values["digits"]:
        raise MeteringError(
            _(
                "The meter already has a reading of %(value)s: it needs more digits.",
                value=_fmt_volume(highest),
            ),
            "digits",
        )
    before = _audit_meter_values({key: getattr(meter, key) for key in values})
    for key, value in values.items():
        setattr(meter, key, value)
    _flush_unique("serial_number", _l("A meter with this serial number already exists."))
    after = _audit_meter_values(values)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(
            "metering.meter_updated", target=meter, organisation=meter.organisation_id, **changes
        )
    return meter


def deactivate_meter(meter: MeteringPoint) -> None:
    """Take a meter out of the readings form; its readings and charges stay in the history."""
    if not meter.is_active:
        raise MeteringError(_l("The meter is already deactivated."))
    meter.is_active = False
    db.session.flush()
    audit.record(
        "metering.meter_deactivated",
        target=meter,
        organisation=meter.organisation_id,
        serial_number=meter.serial_number,
    )
