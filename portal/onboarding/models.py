import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime, utcnow
from portal.extensions import db
from portal.organisations.models import OrganisationKind


class ApplicationStatus(enum.StrEnum):
    NEW = "new"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self):
        return {
            ApplicationStatus.NEW: _lp("application status", "New"),
            ApplicationStatus.INFO_REQUESTED: _l("Information requested"),
            ApplicationStatus.APPROVED: _lp("application status", "Approved"),
            ApplicationStatus.REJECTED: _lp("application status", "Rejected"),
        }[self]


OPEN_STATUSES = (ApplicationStatus.NEW, ApplicationStatus.INFO_REQUESTED)
_OPEN_SQL = text("status IN ('new', 'info_requested')")


class Application(Timestamped, db.Model):
    """A request from a would-be partner to become a client ("Стать клиентом")."""

    __tablename__ = "applications"
    __table_args__ = (
        # One open application per INN, enforced by the database even under a double submit.
        Index(
            "uq_applications_open_inn",
            "inn",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        Index("ix_applications_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_name: Mapped[str] = mapped_column(String(200))
    organisation_name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))

    @property
    def kind_label(self):
        return OrganisationKind(self.kind).label

    inn: Mapped[str] = mapped_column(String(12))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    licence_number: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="ru")
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.NEW)

    @property
    def status_label(self):
        return ApplicationStatus(self.status).label

    submitted_ip: Mapped[str | None] = mapped_column(String(64))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    organisation = relationship("Organisation")
    events = relationship(
        "ApplicationEvent",
        back_populates="application",
        order_by="ApplicationEvent.at",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reference(self) -> str:
        return f"A-{self.id:06d}"


class ApplicationEvent(db.Model):
    """The application's history as both sides see it: submitted, questions, answers, decision."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)

    application = relationship("Application", back_populates="events")
    actor = relationship("User")
