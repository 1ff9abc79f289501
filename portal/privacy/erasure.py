"""Erasure of a person's data (152-ФЗ art. 21): what blocks it, and the anonymisation itself;
accounting records stay, nothing in them names the person any more."""

import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from portal import audit
from portal.accounts.models import LoginAttempt, OfferAcceptance, StaffRole, User
from portal.audit import AuditEvent
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Invitation, Power
from portal.privacy.rights import about_user, erased_email, erased_name, erased_text, is_erased

# --- erasure -------------------------------------------------------------------------------------


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
        return erased_text()
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
    """Anonymise the person (idempotent). Raises UserError, changing nothing, when the
    person is the only active administrator of an active organisation."""
    from portal.notifications.models import Notification
    from portal.onboarding.models import Application

    if is_erased(user):
        return ErasureResult(user.id, already_erased=True)
    blockers = erasure_blockers(user)
    if blockers:
        raise UserError(" ".join(blockers))

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
        select(AuditEvent).where(or_(AuditEvent.actor_id == user.id, about_user(user)))
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
