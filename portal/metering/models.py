"""Gas supply: contracts with tariff history, metering points, monthly readings, charges."""

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Money, Timestamped, UTCDateTime, utcnow
from portal.extensions import db

# Meter values and volumes in m³ with litre precision: meters with a decimal drum exist.
Volume = Numeric(14, 3, asdecimal=True)


class ReadingSource(enum.StrEnum):
    FORM = "form"
    FILE = "file"
    STAFF = "staff"
    API = "api"  # sent by the customer's system through /api/v1

    @property
    def label(self):
        """How the reading was entered, in the reader's language."""
        return {
            ReadingSource.FORM: _l("form"),
            ReadingSource.FILE: _l("file"),
            ReadingSource.STAFF: _l("staff"),
            ReadingSource.API: "API",
        }[self]

    @classmethod
    def labels(cls) -> dict[str, str]:
        """{value: label} translated once, for a table that shows many readings."""
        return {member.value: str(member.label) for member in cls}


class Contract(Timestamped, db.Model):
    __tablename__ = "gas_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # The contract requires an «Акт приёма-передачи газа» beside the monthly УПД.
    gas_act_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Planned volumes (plans.py): the share by which the month's projected consumption may
    # exceed the agreed plan before a warning (None: GAS_PLAN_TOLERANCE), and the coefficients
    # over the tariff at which over- and under-consumption would be charged (None: not charged).
    plan_tolerance: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    overuse_coefficient: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    underuse_coefficient: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))

    organisation = relationship("Organisation")
    tariffs = relationship(
        "Tariff", back_populates="contract", order_by="Tariff.valid_from", cascade="all"
    )
    metering_points = relationship(
        "MeteringPoint", back_populates="contract", order_by="MeteringPoint.serial_number"
    )

    def tariff_on(self, day: date):
        """The tariff in force on a day (the latest one starting on or before it)."""
        current = None
        for tariff in self.tariffs:
            if tariff.valid_from <= day:
                current = tariff
        return current


class Tariff(Timestamped, db.Model):
    """Price per 1,000 m³ without VAT, in force from a date until the next tariff starts.

    The VAT is the rate of its category on the last day of the charged month (billing.tax).
    """

    __tablename__ = "gas_tariffs"
    __table_args__ = (UniqueConstraint("contract_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("gas_contracts.id", ondelete="CASCADE"))
    valid_from: Mapped[date] = mapped_column(Date)
    price_per_thousand: Mapped[Decimal] = mapped_column(Money)
    vat_category: Mapped[str] = mapped_column(String(16), default="general")

    contract = relationship("Contract", back_populates="tariffs")


class MeteringPoint(Timestamped, db.Model):
    __tablename__ = "metering_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(ForeignKey("gas_contracts.id"), index=True)
    address: Mapped[str] = mapped_column(Text)
    serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(120))
    digits: Mapped[int] = mapped_column(Integer, default=8)
    max_flow: Mapped[Decimal] = mapped_column(Numeric(10, 2))  # m³ per hour
    verification_due: Mapped[date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    contract = relationship("Contract", back_populates="metering_points")

    @property
    def rollover_modulus(self) -> Decimal:
        return Decimal(10) ** self.digits


class Reading(db.Model):
    """One monthly reading of a meter; `consumption` is the volume since the previous one."""

    __tablename__ = "gas_readings"
    __table_args__ = (
        # One reading per meter and month: a second one is a correction, never a duplicate.
        UniqueConstraint("metering_point_id", "period", name="uq_gas_readings_point_period"),
        Index("ix_gas_readings_point_date", "metering_point_id", "reading_date"),
        Index("ix_gas_readings_org_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    metering_point_id: Mapped[int] = mapped_column(
        ForeignKey("metering_points.id", ondelete="CASCADE")
    )
    period: Mapped[date] = mapped_column(Date)  # the first day of the reading's month
    reading_date: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Volume)
    consumption: Mapped[Decimal | None] = mapped_column(Volume)
    rolled_over: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default=ReadingSource.FORM)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Submitted before the month's window opened (accepted, marked «досрочно», shown to staff).
    is_early: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # A warning is stored as a code with its figures and worded in the reader's language.
    warning_code: Mapped[str | None] = mapped_column(String(32))
    warning_params: Mapped[dict | None] = mapped_column(JSON)
    photo_name: Mapped[str | None] = mapped_column(String(64))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    metering_point = relationship("MeteringPoint")
    entered_by = relationship("User", foreign_keys=[entered_by_id])
    corrections = relationship(
        "ReadingCorrection", back_populates="reading", order_by="ReadingCorrection.id"
    )

    @property
    def warning(self) -> str | None:
        """The stored warning in the current user's language (None: no warning)."""
        from portal.metering.warnings import warning_message

        return warning_message(self.warning_code, self.warning_params)


class ReadingCorrection(db.Model):
    __tablename__ = "gas_reading_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    reading_id: Mapped[int] = mapped_column(
        ForeignKey("gas_readings.id", ondelete="CASCADE"), index=True
    )
    old_value: Mapped[Decimal] = mapped_column(Volume)
    new_value: Mapped[Decimal] = mapped_column(Volume)
    reason: Mapped[str | None] = mapped_column(String(500))
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reading = relationship("Reading", back_populates="corrections")


class ReadingReminder(db.Model):
    """A reminder e-mail already sent for a period, so a cron running twice sends it once."""

    __tablename__ = "gas_reading_reminders"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    period: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TelemetryGranularity(enum.StrEnum):
    """How long one telemetry interval is."""

    HOUR = "hour"
    DAY = "day"


class TelemetrySource(enum.StrEnum):
    API = "api"  # posted to /api/v1 by the plant's telemetry (АСКУГ)
    FILE = "file"  # imported from a corrector's archive file


class TelemetryPoint(db.Model):
    """The volume a meter passed in one interval (an hour or a day) starting at `starts_at`.

    One row per meter, granularity and start: a repeated point replaces the value, never adds
    a second one. `counter_value` is the meter's index at the interval's end when the source
    gives it (correctors do), from which month-end readings can be derived.
    """

    __tablename__ = "meter_telemetry"
    __table_args__ = (
        UniqueConstraint(
            "metering_point_id", "granularity", "starts_at", name="uq_meter_telemetry_point"
        ),
        Index("ix_meter_telemetry_org", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    metering_point_id: Mapped[int] = mapped_column(
        ForeignKey("metering_points.id", ondelete="CASCADE")
    )
    granularity: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    volume: Mapped[Decimal] = mapped_column(Volume)
    counter_value: Mapped[Decimal | None] = mapped_column(Volume)
    source: Mapped[str] = mapped_column(String(16), default=TelemetrySource.API)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- planned volumes (plans.py) ---------------------------------------------------------------


class PlanRequestKind(enum.StrEnum):
    ANNUAL = "annual"  # every month of a year
    CHANGE = "change"  # one month's volume, before that month's deadline

    @property
    def label(self):
        return {
            PlanRequestKind.ANNUAL: _l("Annual request"),
            PlanRequestKind.CHANGE: _l("Change of a month"),
        }[self]


class PlanRequestStatus(enum.StrEnum):
    PENDING = "pending"
    AGREED = "agreed"  # as requested
    CHANGED = "changed"  # agreed with other volumes
    REJECTED = "rejected"

    @property
    def label(self):
        return {
            PlanRequestStatus.PENDING: _l("Awaiting the manager"),
            PlanRequestStatus.AGREED: lazy_pgettext("plan request", "Agreed"),
            PlanRequestStatus.CHANGED: _l("Agreed with changes"),
            PlanRequestStatus.REJECTED: lazy_pgettext("plan request", "Rejected"),
        }[self]


class PlanRequest(db.Model):
    """A customer's request for planned volumes of a contract, and the manager's decision."""

    __tablename__ = "gas_plan_requests"
    __table_args__ = (Index("ix_gas_plan_requests_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("gas_contracts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PlanRequestStatus.PENDING)
    comment: Mapped[str | None] = mapped_column(String(500))  # the customer's
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision_comment: Mapped[str | None] = mapped_column(String(500))  # the manager's
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract = relationship("Contract")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    lines = relationship(
        "PlanRequestLine",
        back_populates="request",
        order_by="PlanRequestLine.period",
        cascade="all, delete-orphan",
    )

    @property
    def kind_enum(self) -> PlanRequestKind:
        return PlanRequestKind(self.kind)

    @property
    def status_enum(self) -> PlanRequestStatus:
        return PlanRequestStatus(self.status)


class PlanRequestLine(db.Model):
    """One month of a request: the volume asked for and the volume agreed (None: not yet)."""

    __tablename__ = "gas_plan_request_lines"
    __table_args__ = (UniqueConstraint("request_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("gas_plan_requests.id", ondelete="CASCADE"))
    period: Mapped[date] = mapped_column(Date)  # the first day of the month
    requested_volume: Mapped[Decimal] = mapped_column(Volume)
    agreed_volume: Mapped[Decimal | None] = mapped_column(Volume)

    request = relationship("PlanRequest", back_populates="lines")


class PlanVersion(db.Model):
    """The agreed plan of a contract for a year as of a decision; the newest version is in force.

    Each version holds all months of the year agreed so far, so the history shows what was in
    force at every date."""

    __tablename__ = "gas_plan_versions"
    __table_args__ = (UniqueConstraint("contract_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(ForeignKey("gas_contracts.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("gas_plan_requests.id", ondelete="SET NULL")
    )
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request = relationship("PlanRequest")
    agreed_by = relationship("User", foreign_keys=[agreed_by_id])
    months = relationship(
        "PlanMonth",
        back_populates="version",
        order_by="PlanMonth.period",
        cascade="all, delete-orphan",
    )

    def volumes(self) -> dict[date, Decimal]:
        return {month.period: month.volume for month in self.months}


class PlanMonth(db.Model):
    __tablename__ = "gas_plan_months"
    __table_args__ = (UniqueConstraint("version_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("gas_plan_versions.id", ondelete="CASCADE"))
    period: Mapped[date] = mapped_column(Date)
    volume: Mapped[Decimal] = mapped_column(Volume)

    version = relationship("PlanVersion", back_populates="months")


class PlanWarning(db.Model):
    """An over-consumption warning already sent for a contract and month (one per month)."""

    __tablename__ = "gas_plan_warnings"
    __table_args__ = (UniqueConstraint("contract_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("gas_contracts.id", ondelete="CASCADE"))
    period: Mapped[date] = mapped_column(Date)
    projected: Mapped[Decimal] = mapped_column(Volume)
    planned: Mapped[Decimal] = mapped_column(Volume)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
