"""Queue jobs kept in the database: a job that failed with no retry left (staff see it and
run it again), and the imports and documents asked for on a page (their status page)."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class FailedJob(db.Model):
    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    task_name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    # The task's arguments (JSON: job and delivery ids, ISO dates, a message's text).
    arguments: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retried_by_id: Mapped[int | None] = mapped_column(Integer)


class BackgroundState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return {
            BackgroundState.PENDING: _l("waiting for a worker"),
            BackgroundState.RUNNING: _l("in progress"),
            BackgroundState.DONE: _l("done"),
            BackgroundState.FAILED: _l("failed"),
        }[self]


class BackgroundJob(db.Model):
    """An import or a document asked for on a page and done by any worker (background.py).

    The row is the job's status page: pending, done with its report, or failed with the
    message. Its work and its `done` are one transaction, so a retried job does nothing twice.
    """

    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(64), nullable=False)  # background.HANDLERS key
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=BackgroundState.PENDING, index=True
    )
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8), nullable=False, default="ru")
    # The uploaded file, in the file store until the job has finished (then removed).
    file_key: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    result: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> BackgroundState:
        return BackgroundState(self.status)

    @property
    def finished(self) -> bool:
        return self.status in (BackgroundState.DONE, BackgroundState.FAILED)
