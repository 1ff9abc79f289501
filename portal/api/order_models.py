"""Stored API answers for Idempotency-Key, and the organisation's webhooks with their log."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime, utcnow
from portal.extensions import db


class IdempotentRequest(db.Model):
    """The first answer to a request with an Idempotency-Key, per organisation and key.

    The row is inserted before the order is placed, in the same transaction: a parallel
    repeat waits on the unique index and then reads the stored answer."""

    __tablename__ = "api_idempotent_requests"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(40))
    # SHA-256 of the request body in canonical JSON (sorted keys): a different body is refused.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    response_body: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEvent:
    ORDER_STATUS_CHANGED = "order.status_changed"
    DOCUMENT_ISSUED = "document.issued"
    ALL = (ORDER_STATUS_CHANGED, DOCUMENT_ISSUED)


class WebhookEndpoint(Timestamped, db.Model):
    """A URL of an organisation that receives signed POSTs of its events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret (needed in clear to sign; shown to the administrator once).
    secret: Mapped[str] = mapped_column(String(100))
    events_text: Mapped[str] = mapped_column("events", String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation = relationship("Organisation")
    created_by = relationship("User")

    @property
    def events(self) -> list[str]:
        return [e for e in self.events_text.split(",") if e]


class DeliveryStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt used up


class WebhookDelivery(Timestamped, db.Model):
    """One event for one endpoint: its attempts, the last answer and the next try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint = relationship("WebhookEndpoint")
