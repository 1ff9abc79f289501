"""The billing room's tables: the ledger, VAT rates, gas charges, shipments, statement jobs.

Table names are those the tables had before billing became one package: no data moved.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Money, Timestamped, UTCDateTime, utcnow
from portal.extensions import db

# The gas volume in m³ with litre precision, as metering stores readings.
Volume = Numeric(14, 3, asdecimal=True)
# A VAT rate in percent.
Rate = Numeric(5, 2, asdecimal=True)


class VatCategory(enum.StrEnum):
    """What an item or a tariff is taxed as; the percentage comes from the dated vat_rates."""

    GENERAL = "general"  # the general rate (НК РФ ст. 164 п. 3)
    REDUCED = "reduced"  # medicines and medical products, ст. 164 п. 2
    ZERO = "zero"  # 0 %, ст. 164 п. 1 (exports)
    WITHOUT = "without"  # «Без НДС»: exempt operations, ст. 149

    @property
    def label(self):
        return {
            VatCategory.GENERAL: _l("General rate"),
            VatCategory.REDUCED: _l("Reduced rate (medicines, medical products)"),
            VatCategory.ZERO: _l("Zero rate"),
            VatCategory.WITHOUT: _l("Without VAT"),
        }[self]


class VatRate(db.Model):
    """The percentage of a category from a date (until valid_to, or open-ended)."""

    __tablename__ = "vat_rates"
    __table_args__ = (
        UniqueConstraint("category", "valid_from", name="uq_vat_rates_category_from"),
        CheckConstraint("rate >= 0 AND rate < 100", name="rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    rate: Mapped[Decimal] = mapped_column(Rate)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EntryKind(enum.StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_org_date", "organisation_id", "entry_date"),
        CheckConstraint("debit >= 0 AND credit >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # Optional: the gas contract (or other agreement) the entry belongs to.
    contract_id: Mapped[int | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    entry_date: Mapped[date] = mapped_column(Date)
    document_number: Mapped[str | None] = mapped_column(String(64))
    # The Russian text (legal documents, exports; the only text of rows without a code).
    description: Mapped[str] = mapped_column(String(500))
    # What the portal posted, as a code and its parameters shown in the reader's language
    # (portal.billing.texts); None for a staff adjustment's reason as typed.
    text_code: Mapped[str | None] = mapped_column(String(40))
    text_params: Mapped[dict | None] = mapped_column(JSON)
    # A payment's purpose as the payer wrote it («Оплата по договору ГП-52-0118/23 …»).
    purpose: Mapped[str | None] = mapped_column(String(500))
    debit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    vat_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # What produced the entry, e.g. ("order", 42) or ("gas_charge", 7); unique per source.
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation = relationship("Organisation")

    @property
    def amount(self) -> Decimal:
        return self.debit - self.credit

    @property
    def text(self) -> str:
        """The entry's text in the current language (portal.billing.texts)."""
        from portal.billing.texts import text_of

        return text_of(self)


class PaymentAllocation(db.Model):
    """Part of a payment applied to a charge (or a debit adjustment) from a date on.

    The open amount of a charge on a day is its debit less the allocations dated on or before
    that day; a payment's unallocated money is its credit less its allocations.
    """

    __tablename__ = "payment_allocations"
    __table_args__ = (
        Index("ix_payment_allocations_payment", "payment_entry_id"),
        Index("ix_payment_allocations_charge", "charge_entry_id"),
        CheckConstraint("amount > 0", name="positive_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    charge_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    allocation_date: Mapped[date] = mapped_column(Date)
    # None: made automatically (FIFO); a user: a manager's re-allocation.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment = relationship("LedgerEntry", foreign_keys=[payment_entry_id])
    charge = relationship("LedgerEntry", foreign_keys=[charge_entry_id])


class GasCharge(db.Model):
    """The monthly charge of a contract; posted to the ledger once per contract and period."""

    __tablename__ = "gas_charges"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_gas_charges_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(ForeignKey("gas_contracts.id"))
    period: Mapped[date] = mapped_column(Date)
    volume: Mapped[Decimal] = mapped_column(Volume)
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money)
    # The rate the month is taxed at now (after any correction); None for rows from before
    # rates were dated (the VAT then is the only record of it).
    vat_rate: Mapped[Decimal | None] = mapped_column(Rate)
    total: Mapped[Decimal] = mapped_column(Money)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract = relationship("Contract")


class Shipment(db.Model):
    """What an order shipped, as a billing document (УПД): number, date, lines, totals.

    The ledger charge is its total; it never changes once posted (a correction is a new entry).
    """

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    shipment_date: Mapped[date] = mapped_column(Date)
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order = relationship("Order")
    lines = relationship(
        "ShipmentLine",
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="ShipmentLine.id",
    )


class ShipmentLine(db.Model):
    """One shipped line: the shipped quantity at the order's price, taxed at the shipment date."""

    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column()
    price: Mapped[Decimal] = mapped_column(Money)  # per pack, VAT included (the order's price)
    vat_category: Mapped[str] = mapped_column(String(16))
    vat_rate: Mapped[Decimal] = mapped_column(Rate)
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    shipment = relationship("Shipment", back_populates="lines")


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return {
            JobStatus.QUEUED: _l("in the queue"),
            JobStatus.RUNNING: _l("being prepared"),
            JobStatus.DONE: _l("ready"),
            JobStatus.FAILED: _l("failed"),
        }[self]


class StatementJob(Timestamped, db.Model):
    """A requested reconciliation statement, produced by the background worker."""

    __tablename__ = "statement_jobs"
    __table_args__ = (Index("ix_statement_jobs_org_fingerprint", "organisation_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contract_id: Mapped[int | None] = mapped_column()
    contract_label: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    # SHA-256 of everything the statement shows; an unchanged request reuses the files.
    fingerprint: Mapped[str] = mapped_column(String(64))
    pdf_name: Mapped[str | None] = mapped_column(String(80))
    xlsx_name: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    # When the job was (last) handed to the worker, and how many times a worker took it up:
    # a job whose worker died is requeued once, then reported failed (never stuck).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation")
    requested_by = relationship("User")

    @property
    def status_label(self):
        return JobStatus(self.status).label


class DocumentKind(enum.StrEnum):
    """Primary documents the portal issues (each numbered on its own per series and year)."""

    UPD = "upd"  # универсальный передаточный документ, status 1
    UKD = "ukd"  # универсальный корректировочный документ


class DocumentCounter(db.Model):
    """The last number issued of a kind, series and year: the row a new number locks."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class PrimaryDocument(db.Model):
    """An issued УПД (or УКД): its number and a frozen snapshot of everything it prints.

    The snapshot is canonical JSON (sorted keys, amounts as strings) and its SHA-256 is kept
    beside it: every PDF, XLSX or later XML is rendered from the snapshot alone, never from
    the catalogue or the order, so an issued document prints the same figures for ever.
    """

    __tablename__ = "primary_documents"
    __table_args__ = (
        UniqueConstraint("kind", "series", "year", "number", name="uq_primary_documents_number"),
        Index("ix_primary_documents_org_date", "organisation_id", "document_date"),
        CheckConstraint("number > 0", name="positive_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    series: Mapped[str] = mapped_column(String(16), default="")
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # What the document is of: a shipment (goods), later a gas charge; a УКД names the
    # document it corrects.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    gas_charge_id: Mapped[int | None] = mapped_column(ForeignKey("gas_charges.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("primary_documents.id"), index=True)
    document_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))

    shipment = relationship("Shipment")

    @property
    def printed_number(self) -> str:
        return f"{self.series}-{self.number}" if self.series else str(self.number)


class CreditHold(db.Model):
    """Staff stopped new deferred-payment orders of an organisation while its overdue debt
    exceeds `threshold` (prepayment orders stay open). Clearing the hold deletes the row; both
    are in the audit log with the reason."""

    __tablename__ = "credit_holds"
    __table_args__ = (CheckConstraint("threshold >= 0", name="threshold_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    threshold: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(500))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation")
    set_by = relationship("User")


class PaymentReminder(db.Model):
    """The payment reminder digest an organisation got on a day: what it listed and to whom.

    One row per organisation and day (unique): a second run on the same day sends nothing.
    """

    __tablename__ = "payment_reminders"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sent_on", name="uq_payment_reminders_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    sent_on: Mapped[date] = mapped_column(Date)
    # [{"entry_id", "number", "open", "due", "days_overdue"}] and [user id, ...]
    documents: Mapped[list] = mapped_column(JSON, default=list)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
