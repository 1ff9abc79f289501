"""The person's rights over their data: what the portal holds about them (JSON and XLSX), and
erasure, which anonymises the person while the organisation's accounting records stay.

Erasure keeps orders, documents, the ledger and the audit log (accounting documents are kept
for five years, 402-ФЗ art. 29; the audit log is the operator's security record), but nothing
in them names the person any more: the account becomes «Удалённый пользователь №id», with an
e-mail address at the reserved `.invalid` domain, no phone, no way to sign in, and the IP
addresses of its sign-ins and audit entries removed.
"""

import hashlib
import json
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal import audit
from portal.accounts.models import LoginAttempt, OfferAcceptance
from portal.audit import AuditEvent
from portal.database import utcnow
from portal.extensions import db
from portal.organisations.models import Membership, Organisation

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: a domain that can never receive mail


def _stored(text) -> str:
    """A text written into the data: in the portal's own language, whoever erases."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(text)


def erased_text() -> str:
    return _stored(_l("[erased]"))


def erased_name(user) -> str:
    return _stored(_l("Deleted user No. %(id)s", id=user.id))


def erased_email(user) -> str:
    return f"erased-{user.id}@{ERASED_DOMAIN}"


def is_erased(user) -> bool:
    return user.email == erased_email(user)


# --- what the portal holds about a person ------------------------------------------------------


def _consents_of(user) -> list[dict]:
    """The person's consents to processing (each with version, time, digest, IP, user agent)."""
    from portal.privacy.models import ConsentAcceptance, ConsentVersion

    rows = db.session.execute(
        select(ConsentAcceptance, ConsentVersion)
        .join(ConsentVersion, ConsentVersion.id == ConsentAcceptance.version_id)
        .where(ConsentAcceptance.user_id == user.id)
        .order_by(ConsentAcceptance.accepted_at, ConsentAcceptance.id)
    ).all()
    return [
        {
            "kind": acceptance.purpose,
            "title": version.title,
            "version": version.number,
            "text_sha256": acceptance.digest,
            "accepted_at": _iso(acceptance.accepted_at),
            "ip": acceptance.ip,
            "user_agent": acceptance.user_agent,
            "withdrawn_at": _iso(acceptance.withdrawn_at),
        }
        for acceptance, version in rows
    ]


def _iso(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _profile(user) -> dict:
    return {
        "id": user.id,
        "login": user.login,
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
        "staff_role": user.staff_role,
        "active": user.is_active_flag,
        "two_factor_enabled": bool(user.totp_enabled),
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _notification_settings(user) -> dict:
    return {
        "order_status": user.notify_order_status,
        "request_answers": user.notify_request_answers,
        "reading_reminders": user.notify_reading_reminders,
        "news_and_promotions": user.notify_news,
    }


def _memberships(user) -> list[dict]:
    rows = db.session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ).all()
    return [
        {
            "organisation": m.organisation.legal_name,
            "inn": m.organisation.inn,
            "kind": m.organisation.kind,
            "powers": sorted(p.value for p in m.powers),
            "blocked": m.is_blocked,
            "since": m.created_at,
        }
        for m in rows
    ]


def _sign_in_history(user) -> list[dict]:
    rows = db.session.scalars(
        select(LoginAttempt)
        .where(LoginAttempt.user_id == user.id)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
    ).all()
    return [
        {"at": a.at, "succeeded": a.succeeded, "ip": a.ip, "typed_login": a.login_key} for a in rows
    ]


def _audit_rows(condition) -> list[dict]:
    rows = db.session.scalars(
        select(AuditEvent).where(condition).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    return [
        {
            "at": e.at,
            "action": e.action,
            "object": f"{e.target_type} {e.target_id}" if e.target_type else None,
            "organisation": e.organisation.legal_name if e.organisation else None,
            "ip": e.ip,
            "details": e.details or {},
        }
        for e in rows
    ]


def about_user(user):
    return (AuditEvent.target_type == "User") & (AuditEvent.target_id == str(user.id))


def _uploads(user) -> list[dict]:
    from portal.documents.models import CustomerUpload
    from portal.tickets.models import TicketAttachment

    found = []
    for upload in db.session.scalars(
        select(CustomerUpload).where(CustomerUpload.uploaded_by_id == user.id)
    ):
        found.append(
            {
                "source": "document",
                "name": upload.original_name,
                "content_type": upload.content_type,
                "size": upload.size,
                "sha256": upload.sha256,
                "uploaded_at": upload.created_at,
                "organisation": upload.organisation.legal_name,
            }
        )
    for attachment in db.session.scalars(
        select(TicketAttachment).where(TicketAttachment.uploaded_by_id == user.id)
    ):
        found.append(
            {
                "source": "request",
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uploaded_at": attachment.created_at,
                "organisation": attachment.ticket.organisation.legal_name,
            }
        )
    found.extend(_reading_photos(user))
    return sorted(found, key=lambda row: row["uploaded_at"], reverse=True)


def _reading_photos(user) -> list[dict]:
    from portal.files import store
    from portal.metering.models import Reading
    from portal.metering.photos import photo_key

    found = []
    readings = db.session.scalars(
        select(Reading).where(Reading.entered_by_id == user.id, Reading.photo_name.isnot(None))
    )
    for reading in readings:
        try:
            content = store.files().read(photo_key(reading.photo_name))
        except (store.FileMissing, store.StoreUnavailable):
            content = None
        found.append(
            {
                "source": "meter_photo",
                "name": f"{reading.metering_point.serial_number} {reading.period:%m.%Y}",
                "content_type": "image/" + reading.photo_name.rsplit(".", 1)[-1],
                "size": len(content) if content is not None else None,
                "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
                "uploaded_at": reading.created_at,
                "organisation": db.session.get(Organisation, reading.organisation_id).legal_name,
            }
        )
    return found


def _offer_acceptances(user) -> list[dict]:
    rows = db.session.scalars(
        select(OfferAcceptance)
        .where(OfferAcceptance.user_id == user.id)
        .order_by(OfferAcceptance.accepted_at)
    ).all()
    return [
        {
            "version": a.offer_version.version,
            "title": a.offer_version.title,
            "accepted_at": a.accepted_at,
            "ip": a.ip,
        }
        for a in rows
    ]


def _applications(user) -> list[dict]:
    from portal.onboarding.models import Application

    if not user.email:
        return []
    rows = db.session.scalars(
        select(Application)
        .where(func.lower(Application.email) == user.email)
        .order_by(Application.id)
    ).all()
    return [
        {
            "reference": a.reference,
            "submitted_at": a.created_at,
            "organisation": a.organisation_name,
            "representative": a.representative_name,
            "email": a.email,
            "phone": a.phone,
            "region": a.region,
            "inn": a.inn,
            "status": a.status,
            "ip": a.submitted_ip,
        }
        for a in rows
    ]


def _privacy_requests(user) -> list[dict]:
    from portal.privacy.requests import requests_of

    return [
        {
            "reference": r.reference,
            "kind": r.kind,
            "status": r.status,
            "received_on": r.received_on,
            "due_on": r.due_on,
            "decided_at": r.decided_at,
            "decision_reason": r.decision_reason,
        }
        for r in requests_of(user)
    ]


def _notifications(user) -> list[dict]:
    from portal.notifications.models import Notification

    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc())
    ).all()
    return [{"at": n.created_at, "title": n.title, "read_at": n.read_at} for n in rows]


def personal_data(user) -> dict:
    """Everything the portal holds about the person, by section (machine-readable keys)."""
    return {
        "generated_at": utcnow(),
        "operator": current_app.config["SUPPLIER"]["name"],
        "profile": _profile(user),
        "notification_settings": _notification_settings(user),
        "memberships": _memberships(user),
        "consents": _consents_of(user),
        "offer_acceptances": _offer_acceptances(user),
        "sign_in_history": _sign_in_history(user),
        "security_events": _audit_rows(
            about_user(user) & or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != user.id)
        ),
        "uploads": _uploads(user),
        "audit_entries": _audit_rows(AuditEvent.actor_id == user.id),
        "applications": _applications(user),
        "privacy_requests": _privacy_requests(user),
        "notifications": _notifications(user),
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return _iso(value)


def export_json(user) -> bytes:
    data = _jsonable(personal_data(user))
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


# The XLSX: one sheet per section, the columns in the person's language.
def record_export(user, fmt: str) -> None:
    audit.record("privacy.exported", actor=user, target=user, format=fmt)
