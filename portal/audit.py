"""The audit log: every staff decision and every security event, with who, when, what, where."""

from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", foreign_keys=[actor_id])
    organisation = relationship("Organisation")


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action, *, target=None, organisation=None, actor=None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (it is saved with the change it describes)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    # current_user is a proxy: store the user's own type («User»), never «LocalProxy».
    target = _unwrapped(target)
    actor = _unwrapped(actor)
    organisation_id = getattr(organisation, "id", organisation)
    if organisation_id is None and target is not None:
        organisation_id = getattr(target, "organisation_id", None)
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if target is not None and target.id is not None else None,
        organisation_id=organisation_id,
        ip=client_ip(),
        details={k: _jsonable(v) for k, v in details.items()},
    )
    db.session.add(event)
    return event


def _unwrapped(value):
    getter = getattr(value, "_get_current_object", None)
    return getter() if callable(getter) else value


def _jsonable(value):
    value = _unwrapped(value)
    if isinstance(value, db.Model) and hasattr(value, "id"):
        return value.id  # a row: its id (the log page shows its name)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
