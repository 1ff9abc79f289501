import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime
from portal.extensions import db


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


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
