"""Consents: publish versions, record acceptances and withdrawals, ask for what is missing.

Every consent is its own versioned document (portal/privacy/models.py). A customer user must
hold the current version of the `portal` consent to use the portal (asked by the gate in
portal/security.py right after the offer); `promotions` is optional; `application` is given
with a partner application. Everything that changes a consent is written to the audit log.
"""

from flask import current_app, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit, caching
from portal.accounts.models import User
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.privacy.initial_texts import render_initial_text
from portal.privacy.models import ConsentAcceptance, ConsentPurpose, ConsentVersion, text_digest

# Purposes a customer user cannot use the portal without (asked again for each new version).
REQUIRED_PURPOSES = (ConsentPurpose.PORTAL,)
MAX_USER_AGENT = 512
CONSENT_GIVEN_KEY = "portal_consent"


# --- versions ------------------------------------------------------------------------------


def current_version(purpose) -> ConsentVersion | None:
    """The newest published version of a purpose (read from the database, never cached)."""
    return db.session.scalar(
        select(ConsentVersion)
        .where(ConsentVersion.purpose == str(purpose), ConsentVersion.published_at <= utcnow())
        .order_by(ConsentVersion.published_at.desc(), ConsentVersion.number.desc())
        .limit(1)
    )


def current_version_id(purpose) -> int | None:
    """The current version's id (caching.CONSENT_VERSION: the gate asks on every page);
    `publish_version` forgets it for every process."""

    def look_up():
        version = current_version(purpose)
        return version.id if version else None

    return caching.remember(caching.CONSENT_VERSION, str(purpose), look_up)


# The gate asks for the portal consent on every page (needs_portal_consent).
caching.EVERY_PAGE.append((caching.CONSENT_VERSION, str(ConsentPurpose.PORTAL)))


def versions_of(purpose) -> list[ConsentVersion]:
    return db.session.scalars(
        select(ConsentVersion)
        .where(ConsentVersion.purpose == str(purpose))
        .order_by(ConsentVersion.number.desc())
    ).all()


def publish_version(purpose, title: str, text: str, published_by: User) -> ConsentVersion:
    """Publish the next version of a purpose's text (audited); required consents are asked
    again of every customer user at their next page."""
    purpose = ConsentPurpose(purpose)
    text = text.replace("\r\n", "\n").strip() + "\n"
    current = current_version(purpose)
    if current is not None and current.digest == text_digest(text) and current.title == title:
        raise UserError(_l("This text is the same as the current version."))
    number = (
        db.session.scalar(
            select(func.max(ConsentVersion.number)).where(ConsentVersion.purpose == str(purpose))
        )
        or 0
    ) + 1
    version = ConsentVersion(
        purpose=str(purpose),
        number=number,
        title=title.strip(),
        text=text,
        digest=text_digest(text),
        published_by_id=published_by.id,
        published_at=utcnow(),
    )
    db.session.add(version)
    db.session.flush()
    caching.forget_consent_versions()
    audit.record(
        "consent.version_published",
        actor=published_by,
        target=version,
        purpose=str(purpose),
        number=number,
        digest=version.digest,
    )
    return version


def ensure_initial_versions(supplier: dict | None = None) -> None:
    """Publish version 1 of every purpose that has none (what the migration 0019 does)."""
    supplier = supplier if supplier is not None else current_app.config["SUPPLIER"]
    for purpose in ConsentPurpose:
        exists = db.session.scalar(
            select(ConsentVersion.id).where(ConsentVersion.purpose == str(purpose)).limit(1)
        )
        if exists is not None:
            continue
        title, text = render_initial_text(str(purpose), supplier)
        db.session.add(
            ConsentVersion(
                purpose=str(purpose), number=1, title=title, text=text, digest=text_digest(text)
            )
        )
    db.session.flush()
    caching.forget_consent_versions()


# --- acceptances ---------------------------------------------------------------------------


def _request_details() -> dict:
    if not has_request_context():
        return {"ip": None, "user_agent": None}
    agent = request.headers.get("User-Agent") or None
    return {"ip": audit.client_ip(), "user_agent": agent[:MAX_USER_AGENT] if agent else None}


def require_current(purpose, number) -> ConsentVersion:
    """The current version of a purpose, if it is the one (by number) the form showed; else
    refuse: the text changed while the page was open, or the form was made up."""
    version = current_version(purpose)
    if version is None:
        raise UserError(_l("This consent text is not published yet. Please try later."))
    if str(version.number) != str(number or "").strip():
        raise UserError(
            _l("The text of the consent has been updated. Please read the new version.")
        )
    return version


def accept(version: ConsentVersion, *, user=None, application=None) -> ConsentAcceptance:
    """Record a consent to `version` by a user or with an application: time, text digest,
    IP address and user agent of the request (audited)."""
    purpose = version.purpose_enum
    if not purpose.is_consent:
        raise ValueError("the policy is published, not accepted")
    acceptance = ConsentAcceptance(
        user_id=getattr(user, "id", None),
        application_id=getattr(application, "id", None),
        purpose=str(purpose),
        version_id=version.id,
        digest=version.digest,
        accepted_at=utcnow(),
        **_request_details(),
    )
    db.session.add(acceptance)
    db.session.flush()
    if user is not None and purpose is ConsentPurpose.PROMOTIONS:
        user.notify_news = True
    audit.record(
        "consent.given",
        actor=user,
        target=application if user is None else user,
        purpose=str(purpose),
        version=version.number,
        digest=version.digest,
        acceptance_id=acceptance.id,
    )
    return acceptance


def active_acceptance(user, purpose) -> ConsentAcceptance | None:
    """The user's newest consent for a purpose that is not withdrawn (any version)."""
    return db.session.scalar(
        select(ConsentAcceptance)
        .where(
            ConsentAcceptance.user_id == user.id,
            ConsentAcceptance.purpose == str(purpose),
            ConsentAcceptance.withdrawn_at.is_(None),
        )
        .order_by(ConsentAcceptance.accepted_at.desc(), ConsentAcceptance.id.desc())
        .limit(1)
    )


def has_consent(user, purpose) -> bool:
    """True if the user holds the consent now. Every mailing and every processing that needs a
    consent asks this. A required consent counts only in its current version; an optional one
    (promotions) in the version it was given for, until withdrawn."""
    purpose = ConsentPurpose(purpose)
    if user is None or not getattr(user, "id", None):
        return False
    if purpose in REQUIRED_PURPOSES:
        version_id = current_version_id(purpose)
        if version_id is None:
            return False
        return (
            db.session.scalar(
                select(ConsentAcceptance.id).where(
                    ConsentAcceptance.user_id == user.id,
                    ConsentAcceptance.version_id == version_id,
                    ConsentAcceptance.withdrawn_at.is_(None),
                )
            )
            is not None
        )
    return active_acceptance(user, purpose) is not None


def needs_portal_consent(user) -> bool:
    """The gate's question: must this user accept the current `portal` consent first?

    Staff process their own data under their employment, not under this consent. With no
    version published (a database being set up) nothing is asked.
    """
    if user.is_staff:
        return False
    version_id = current_version_id(ConsentPurpose.PORTAL)
    if version_id is None:
        return False
    remembered = [user.id, version_id]
    if has_request_context() and session.get(CONSENT_GIVEN_KEY) == remembered:
        return False  # checked earlier in this (signed) session
    given = has_consent(user, ConsentPurpose.PORTAL)
    if given and has_request_context():
        session[CONSENT_GIVEN_KEY] = remembered
    return not given


def acceptances_of(user) -> list[ConsentAcceptance]:
    """The user's consents, newest first, withdrawn ones included (their history)."""
    return db.session.scalars(
        select(ConsentAcceptance)
        .where(ConsentAcceptance.user_id == user.id)
        .order_by(ConsentAcceptance.accepted_at.desc(), ConsentAcceptance.id.desc())
    ).all()


def acceptance_of(user, acceptance_id: int) -> ConsentAcceptance | None:
    """One of the user's own consents; another person's id finds nothing."""
    return db.session.scalar(
        select(ConsentAcceptance).where(
            ConsentAcceptance.id == acceptance_id, ConsentAcceptance.user_id == user.id
        )
    )


def withdraw(acceptance: ConsentAcceptance, user: User) -> None:
    """Withdraw a consent at once (audited). Promotions stop; withdrawing the `portal` consent
    ends the user's access (see _on_portal_consent_withdrawn)."""
    if acceptance.user_id != user.id:
        raise UserError(_l("This consent is not yours."))
    if acceptance.withdrawn_at is not None:
        raise UserError(_l("This consent has already been withdrawn."))
    now = utcnow()
    purpose = acceptance.purpose_enum
    # Every still-active acceptance of the purpose ends: the person withdraws the consent,
    # not one version of its text.
    for row in db.session.scalars(
        select(ConsentAcceptance).where(
            ConsentAcceptance.user_id == user.id,
            ConsentAcceptance.purpose == str(purpose),
            ConsentAcceptance.withdrawn_at.is_(None),
        )
    ):
        row.withdrawn_at = now
    audit.record(
        "consent.withdrawn",
        actor=user,
        target=user,
        purpose=str(purpose),
        version=acceptance.version.number,
        acceptance_id=acceptance.id,
    )
    if purpose is ConsentPurpose.PROMOTIONS:
        user.notify_news = False
    elif purpose is ConsentPurpose.PORTAL:
        _on_portal_consent_withdrawn(user)


def _on_portal_consent_withdrawn(user: User) -> None:
    """The person withdrew the consent to processing for using the portal: block the account
    (it cannot sign in; every session and remember-me cookie ends) and audit it."""
    from portal.privacy.requests import RequestKind, open_request

    user.is_active_flag = False
    user.rotate_session_token()
    audit.record("account.blocked_consent_withdrawn", actor=user, target=user)
    # Staff answer it within the legal term: confirm the end of processing or erase the data.
    open_request(user, RequestKind.CONSENT_WITHDRAWN)
