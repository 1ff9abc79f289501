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
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from portal import audit
from portal.accounts.models import LoginAttempt, OfferAcceptance, StaffRole, User
from portal.audit import AuditEvent
from portal.database import utcnow
from portal.extensions import db
from portal.organisations.forms import KIND_LABELS, POWER_LABELS
from portal.organisations.models import Invitation, Membership, Organisation, Power
from portal.reports import xlsx

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: a domain that can never receive mail
ERASED_TEXT = "[удалено]"


def erased_name(user) -> str:
    return f"Удалённый пользователь №{user.id}"


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


def _about_user(user):
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
    from portal.metering.services import photo_key

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
            _about_user(user) & or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != user.id)
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
FIELD_LABELS = {
    "id": _l("Account number"),
    "login": _l("Login"),
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "language": _l("Language"),
    "staff_role": _l("Staff role"),
    "active": _l("Account active"),
    "two_factor_enabled": _l("Two-factor sign-in"),
    "created_at": _l("Created"),
    "last_login_at": _l("Last sign-in"),
    "order_status": _l("E-mail on order status changes"),
    "request_answers": _l("E-mail on answers to requests"),
    "reading_reminders": _l("Meter reading reminders"),
    "news_and_promotions": _l("News and promotions by e-mail"),
}
SHEETS = [
    (
        "memberships",
        _l("Organisations"),
        [
            ("organisation", _l("Organisation")),
            ("inn", _l("INN")),
            ("kind", _l("Kind of activity")),
            ("powers", _l("Powers")),
            ("blocked", _l("Blocked")),
            ("since", _l("Member since")),
        ],
    ),
    (
        "consents",
        _l("Consents"),
        [
            ("kind", _l("Consent")),
            ("version", _l("Version")),
            ("accepted_at", _l("Given")),
            ("withdrawn_at", _l("Withdrawn")),
            ("text_sha256", _l("Text digest (SHA-256)")),
            ("ip", _l("IP address")),
            ("user_agent", _l("Browser")),
        ],
    ),
    (
        "offer_acceptances",
        _l("Offer agreement"),
        [
            ("version", _l("Version")),
            ("title", _l("Title")),
            ("accepted_at", _l("Accepted at")),
            ("ip", _l("IP address")),
        ],
    ),
    (
        "sign_in_history",
        _l("Sign-in history"),
        [
            ("at", _l("When")),
            ("succeeded", _l("Succeeded")),
            ("ip", _l("IP address")),
            ("typed_login", _l("Login typed")),
        ],
    ),
    (
        "security_events",
        _l("Security events"),
        [
            ("at", _l("When")),
            ("action", _l("Action")),
            ("object", _l("Object")),
            ("organisation", _l("Organisation")),
            ("ip", _l("IP address")),
            ("details", _l("Details")),
        ],
    ),
    (
        "uploads",
        _l("Uploaded files"),
        [
            ("source", _l("Where")),
            ("name", _l("File")),
            ("content_type", _l("Type")),
            ("size", _l("Size, bytes")),
            ("sha256", _l("SHA-256")),
            ("uploaded_at", _l("Uploaded")),
            ("organisation", _l("Organisation")),
        ],
    ),
    (
        "audit_entries",
        _l("Your actions"),
        [
            ("at", _l("When")),
            ("action", _l("Action")),
            ("object", _l("Object")),
            ("organisation", _l("Organisation")),
            ("ip", _l("IP address")),
            ("details", _l("Details")),
        ],
    ),
    (
        "applications",
        _l("Applications"),
        [
            ("reference", _l("No.")),
            ("submitted_at", _l("Application date")),
            ("organisation", _l("Organisation")),
            ("representative", _l("Representative")),
            ("email", _l("E-mail")),
            ("phone", _l("Phone")),
            ("region", _l("Region")),
            ("inn", _l("INN")),
            ("status", _l("Status")),
            ("ip", _l("IP address")),
        ],
    ),
    (
        "privacy_requests",
        _l("Personal data requests"),
        [
            ("reference", _l("No.")),
            ("kind", _l("Request type")),
            ("status", _l("Status")),
            ("received_on", _l("Received on")),
            ("due_on", _l("Answer due")),
            ("decided_at", _l("Decided")),
            ("decision_reason", _l("Reason")),
        ],
    ),
    (
        "notifications",
        _l("Notifications"),
        [
            ("at", _l("When")),
            ("title", _l("Title")),
            ("read_at", _l("Read")),
        ],
    ),
]
DATETIME_FORMAT = "DD.MM.YYYY HH:MM:SS"


UPLOAD_SOURCES = {
    "document": _l("Document scan"),
    "request": _l("Request attachment"),
    "meter_photo": _l("Meter photo"),
}


def _label(section, key, value):
    """The words for a stored code in the person's language, or None when it is not a code."""
    from portal.onboarding.forms import STATUS_LABELS
    from portal.privacy.requests import RequestKind, RequestStatus

    if key == "powers":
        return "; ".join(str(POWER_LABELS[Power(p)]) for p in value)
    if section == "privacy_requests" and key == "kind" and value in set(RequestKind):
        return str(RequestKind(value).label)
    if section == "privacy_requests" and key == "status" and value in set(RequestStatus):
        return str(RequestStatus(value).label)
    if section == "applications" and key == "status" and value in STATUS_LABELS:
        return str(STATUS_LABELS[value])
    if key == "kind" and value in KIND_LABELS:
        return str(KIND_LABELS[value])
    if key == "source" and value in UPLOAD_SOURCES:
        return str(UPLOAD_SOURCES[value])
    return None


def _cell_value(key, value, zone, section=""):
    """A value as a spreadsheet shows it: local time, yes/no, labels, lists joined."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    label = _label(section, key, value) if isinstance(value, str | list) else None
    if label is not None:
        return label
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return value


def _write_cell(sheet, value):
    if isinstance(value, datetime):
        return xlsx.cell(sheet, value, number_format=DATETIME_FORMAT)
    if isinstance(value, date):
        return xlsx.cell(sheet, value, number_format=xlsx.DATE_FORMAT)
    return value


def export_xlsx(user) -> bytes:
    from openpyxl import Workbook

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    data = personal_data(user)
    workbook = Workbook(write_only=True)

    sheet = xlsx.TextSafeSheet(workbook.create_sheet(_("Profile")))
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 50
    sheet.append([xlsx.cell(sheet, _("What the portal holds about you"), bold=True)])
    sheet.append([_("Operator"), data["operator"]])
    sheet.append([_("Prepared"), _write_cell(sheet, _cell_value("", data["generated_at"], zone))])
    sheet.append([])
    for section in ("profile", "notification_settings"):
        for key, value in data[section].items():
            label = str(FIELD_LABELS[key])
            sheet.append([label, _write_cell(sheet, _cell_value(key, value, zone))])

    for key, title, columns in SHEETS:
        sheet = xlsx.TextSafeSheet(workbook.create_sheet(str(title)[:31]))
        for index in range(len(columns)):
            sheet.column_dimensions[chr(ord("A") + index)].width = 22
        sheet.append([xlsx.cell(sheet, str(label), bold=True) for _key, label in columns])
        for row in data[key]:
            sheet.append(
                [
                    _write_cell(sheet, _cell_value(name, row.get(name), zone, key))
                    for name, _ in columns
                ]
            )
    return xlsx.to_bytes(workbook)


def record_export(user, fmt: str) -> None:
    audit.record("privacy.exported", actor=user, target=user, format=fmt)


# --- erasure -------------------------------------------------------------------------------------


class ErasureRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class ErasureResult:
    user_id: int
    already_erased: bool = False
    counts: dict = field(default_factory=dict)


def _is_organisation_administrator(membership) -> bool:
    return membership.has(Power.MANAGE_USERS) and membership.user.is_active_flag


def erasure_blockers(user) -> list[str]:
    """Why the person cannot be erased now (empty when nothing stands in the way)."""
    blockers = []
    for membership in user.memberships:
        organisation = membership.organisation
        if not organisation.is_active or not _is_organisation_administrator(membership):
            continue
        others = [
            m
            for m in organisation.memberships
            if m.user_id != user.id and _is_organisation_administrator(m)
        ]
        if not others:
            blockers.append(
                _(
                    "%(name)s is the only active administrator of «%(organisation)s». Give "
                    "another member the power to manage users first, or deactivate the "
                    "organisation.",
                    name=user.full_name,
                    organisation=organisation.legal_name,
                )
            )
    if user.staff_role == StaffRole.ADMIN and user.is_active_flag:
        admins = db.session.scalars(
            select(User.id).where(
                User.staff_role == StaffRole.ADMIN,
                User.is_active_flag.is_(True),
                User.id != user.id,
            )
        ).all()
        if not admins:
            blockers.append(_("%(name)s is the portal's only administrator.", name=user.full_name))
    return blockers


def _free_login(user) -> str:
    login = f"erased-{user.id}"
    while db.session.scalar(select(User.id).where(User.login == login, User.id != user.id)):
        login = f"erased-{user.id}-{secrets.token_hex(3)}"
    return login


def _scrub(details, secrets_to_hide):
    if isinstance(details, dict):
        return {key: _scrub(value, secrets_to_hide) for key, value in details.items()}
    if isinstance(details, list):
        return [_scrub(value, secrets_to_hide) for value in details]
    if isinstance(details, str) and details.strip().lower() in secrets_to_hide:
        return ERASED_TEXT
    return details


def _erase_consent_traces(user) -> int:
    """Remove the IP address and browser from the person's consent records (the records
    themselves stay: they prove on what grounds the data were processed)."""
    from portal.privacy.models import ConsentAcceptance

    result = db.session.execute(
        update(ConsentAcceptance)
        .where(ConsentAcceptance.user_id == user.id)
        .values(ip=None, user_agent=None)
    )
    return result.rowcount


def erase_user(user, *, by=None) -> ErasureResult:
    """Anonymise the person (idempotent). Raises ErasureRefused, changing nothing, when the
    person is the only active administrator of an active organisation."""
    from portal.notifications.models import Notification
    from portal.onboarding.models import Application

    if is_erased(user):
        return ErasureResult(user.id, already_erased=True)
    blockers = erasure_blockers(user)
    if blockers:
        raise ErasureRefused(" ".join(blockers))

    identifiers = {
        value.strip().lower()
        for value in (user.login, user.email, user.full_name, user.phone)
        if value and value.strip()
    }
    old_email, old_login = user.email, user.login
    counts = {}

    user.full_name = erased_name(user)
    user.email = erased_email(user)
    user.login = _free_login(user)
    user.phone = None
    user.password_hash = None  # no password verifies against nothing
    user.access_code_hash = None
    user.access_code_expires_at = None
    user.must_change_password = False
    user.totp_secret = None
    user.totp_enabled = False
    user.is_active_flag = False
    user.notify_order_status = user.notify_request_answers = False
    user.notify_reading_reminders = user.notify_news = False
    user.rotate_session_token()  # every session and remember-me cookie stops working
    for membership in user.memberships:
        membership.is_blocked = True
    counts["memberships_blocked"] = len(user.memberships)

    typed = {value.lower() for value in (old_email, old_login) if value}
    counts["sign_in_attempts"] = db.session.execute(
        update(LoginAttempt)
        .where(or_(LoginAttempt.user_id == user.id, LoginAttempt.login_key.in_(typed)))
        .values(ip=None, login_key=user.login)
        .execution_options(synchronize_session=False)
    ).rowcount
    events = db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.actor_id == user.id, _about_user(user)))
    ).all()
    for event in events:
        event.ip = None
        event.details = _scrub(event.details or {}, identifiers)
    counts["audit_entries"] = len(events)
    counts["offer_acceptances"] = db.session.execute(
        update(OfferAcceptance)
        .where(OfferAcceptance.user_id == user.id)
        .values(ip=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["consent_records"] = _erase_consent_traces(user)
    applications = (
        db.session.scalars(
            select(Application).where(func.lower(Application.email) == old_email)
        ).all()
        if old_email
        else []
    )
    for application in applications:
        application.representative_name = user.full_name
        application.email = user.email
        application.phone = ""
        application.submitted_ip = None
    counts["applications"] = len(applications)
    invitations = or_(Invitation.user_id == user.id, func.lower(Invitation.email) == old_email)
    db.session.execute(
        update(Invitation)
        .where(invitations, Invitation.accepted_at.is_(None), Invitation.declined_at.is_(None))
        .values(declined_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    counts["invitations"] = db.session.execute(
        update(Invitation)
        .where(invitations)
        .values(email=user.email)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["notifications"] = db.session.execute(
        delete(Notification)
        .where(Notification.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    audit.record(
        "privacy.erased",
        actor=by,
        target=user,
        via="staff" if by is not None else "command",
        **counts,
    )
    return ErasureResult(user.id, counts=counts)
