import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime, utcnow
from portal.documents.models import StoredFileColumns
from portal.extensions import db


class TicketType(enum.StrEnum):
    QUESTION = "question"
    CONTRACT_CHANGE = "contract_change"
    METER_VERIFICATION = "meter_verification"
    DOCUMENT_COPY = "document_copy"
    COMPLAINT = "complaint"
    RETURN = "return"

    @property
    def label(self):
        return {
            TicketType.QUESTION: _l("Question"),
            TicketType.CONTRACT_CHANGE: _l("Contract change"),
            TicketType.METER_VERIFICATION: _l("Meter verification"),
            TicketType.DOCUMENT_COPY: _l("Copy of a document"),
            TicketType.COMPLAINT: _l("Complaint"),
            TicketType.RETURN: _l("Return of goods"),
        }[self]


class TicketStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self):
        return {
            TicketStatus.NEW: _l("new request"),
            TicketStatus.IN_PROGRESS: _l("request in progress"),
            TicketStatus.WAITING_FOR_CUSTOMER: _l("waiting for your reply"),
            TicketStatus.RESOLVED: _l("request resolved"),
            TicketStatus.CLOSED: _l("request closed"),
        }[self]


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_FOR_CUSTOMER,
)


class EventKind(enum.StrEnum):
    CREATED = "created"
    COMMENT = "comment"
    STATUS = "status"
    ASSIGNED = "assigned"


class Ticket(Timestamped, db.Model):
    """A customer's request («обращение») to the supplier, followed to resolution."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_org_status", "organisation_id", "status"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    type: Mapped[str] = mapped_column(String(32))

    @property
    def type_label(self):
        return TicketType(self.type).label

    title: Mapped[str] = mapped_column(String(200))
    # The type's own fields (meter number, order lines to return, ...), as entered.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    subject_kind: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column()
    subject_label: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default=TicketStatus.NEW)

    @property
    def status_label(self):
        return TicketStatus(self.status).label

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    events = relationship(
        "TicketEvent", back_populates="ticket", order_by="TicketEvent.id", lazy="selectin"
    )
    attachments = relationship(
        "TicketAttachment", back_populates="ticket", order_by="TicketAttachment.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(Timestamped, db.Model):
    """One line of a ticket's history: creation, a comment, a status change, an assignment."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))

    @property
    def from_status_label(self):
        return TicketStatus(self.from_status).label if self.from_status else None

    @property
    def to_status_label(self):
        return TicketStatus(self.to_status).label if self.to_status else None

    body: Mapped[str | None] = mapped_column(Text)
    by_staff: Mapped[bool] = mapped_column(default=False)

    ticket = relationship("Ticket", back_populates="events")
    author = relationship("User")
    attachments = relationship("TicketAttachment", back_populates="event", lazy="selectin")


class TicketAttachment(StoredFileColumns, Timestamped, db.Model):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    ticket = relationship("Ticket", back_populates="attachments")
    event = relationship("TicketEvent", back_populates="attachments")
