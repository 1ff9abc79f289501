"""Sign-in, passwords, access codes and the offer agreement."""

import contextlib
import hashlib
import secrets
from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context, session
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select

from portal import audit, caching
from portal.accounts.models import (
    LoginAttempt,
    OfferAcceptance,
    OfferVersion,
    User,
    password_hasher,
)
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.mail import send_mail


def find_user_by_login_or_email(identifier: str) -> User | None:
    identifier = (identifier or "").strip().lower()
    if not identifier:
        return None
    candidates = db.session.scalars(
        select(User).where(
            or_(func.lower(User.login) == identifier, func.lower(User.email) == identifier)
        )
    ).all()
    # A login that happens to equal another account's e-mail: the login wins.
    return next((u for u in candidates if u.login.lower() == identifier), None) or next(
        iter(candidates), None
    )


def _attempts_of(user: User | None, login_key: str):
    """Attempts that count against one account, whatever identifier was typed (login or
    e-mail, any case); for an unknown identifier, the attempts with that identifier."""
    if user is not None:
        return LoginAttempt.user_id == user.id
    return (LoginAttempt.login_key == login_key) & LoginAttempt.user_id.is_(None)


def _recent_failures(user: User | None, login_key: str) -> int:
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    attempts = _attempts_of(user, login_key)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(attempts, LoginAttempt.succeeded.is_(True))
    )
    if last_success is not None and last_success > since:
        since = last_success
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            attempts, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
        )
    )


_dummy_hash: list[str] = []


def dummy_password_hash() -> str:
    """An Argon2 hash of a random secret, made once per process with the same parameters as
    real ones: an unknown login is verified against it, so it costs as much as a known one."""
    if not _dummy_hash:
        _dummy_hash.append(password_hasher.hash(secrets.token_urlsafe(24)))
    return _dummy_hash[0]


def _spend_a_verification(password: str) -> None:
    with contextlib.suppress(VerificationError, InvalidHashError):
        password_hasher.verify(dummy_password_hash(), password or "")


def authenticate(identifier: str, password: str, ip: str | None) -> User:
    """Check a login (or e-mail) and a password or one-time access code.

    Raises UserError with the same message whatever was wrong, and UserError after too
    many failures for that account (counted per account, by login or e-mail alike). Every
    attempt is recorded and audited. The password is always put through Argon2, against a
    dummy hash when there is no such account, so the answer takes as long either way.
    """
    login_key = (identifier or "").strip().lower()[:254]
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    user = find_user_by_login_or_email(identifier)
    if _recent_failures(user, login_key) >= max_failures:
        _spend_a_verification(password)
        audit.record("auth.login_refused_locked", target=user, login=login_key)
        raise UserError(
            _l(
                "Too many failed attempts. Sign-in for this account is paused for "
                "%(minutes)s minutes; try later or reset your password.",
                minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        )
    used_access_code = False
    ok = False
    if user is not None and user.is_active and user.password_hash:
        ok = user.check_password(password)
    elif user is None or not user.is_active or not user.access_code_hash:
        _spend_a_verification(password)  # else the access code below is the verification
    if not ok and user is not None and user.is_active and user.check_access_code(password):
        ok = used_access_code = True
    attempt = LoginAttempt(
        login_key=login_key, user_id=user.id if user else None, succeeded=ok, ip=ip
    )
    db.session.add(attempt)
    if not ok:
        audit.record("auth.login_failed", actor=None, target=user, login=login_key)
        if _recent_failures(user, login_key) + 1 >= max_failures:
            audit.record("auth.account_locked", actor=None, target=user, login=login_key)
        raise UserError(_l("Wrong login or password."))
    if used_access_code:
        # The code works once: the user must now choose a password.
        user.access_code_hash = None
        user.must_change_password = True
    user.last_login_at = utcnow()
    audit.record("auth.login", actor=user, target=user, with_access_code=used_access_code)
    return user


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-token")


def _fingerprint(user: User) -> str:
    # The token is bound to the current password: once it is used (or the password changes)
    # the fingerprint changes and the token stops working. That makes it single-use.
    material = f"{user.id}:{user.password_hash or ''}:{user.session_token}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def make_password_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_password_token(token: str) -> User:
    max_age = current_app.config["PASSWORD_TOKEN_MAX_AGE"]
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise UserError(_l("This link has expired. Request a new one.")) from error
    except BadSignature as error:
        raise UserError(_l("This link is not valid. Request a new one.")) from error
    user = db.session.get(User, data.get("u"))
    if user is None or not user.is_active or data.get("f") != _fingerprint(user):
        raise UserError(_l("This link has already been used. Request a new one."))
    return user


def send_set_password_link(user: User, *, template="set_password", subject=None) -> None:
    token = make_password_token(user)
    send_mail(
        user.email,
        subject or _l("Set your password for the supplier portal"),
        template,
        user.language,
        user=user,
        token=token,
        hours=current_app.config["PASSWORD_TOKEN_MAX_AGE"] // 3600,
    )


def request_password_reset(identifier: str) -> None:
    """E-mail a reset link if the account exists; the caller answers the same either way."""
    user = find_user_by_login_or_email(identifier)
    if user is None or not user.is_active or not user.email:
        audit.record("auth.reset_requested_unknown", actor=None, identifier=identifier[:254])
        return
    send_set_password_link(
        user, template="reset_password", subject=_l("Password reset for the supplier portal")
    )
    audit.record("auth.reset_requested", actor=None, target=user)


def set_password_with_token(token: str, password: str) -> User:
    user = user_for_password_token(token)
    user.set_password(password)
    user.rotate_session_token()  # every other session ends
    audit.record("auth.password_set_by_link", actor=user, target=user)
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.must_change_password and not user.check_password(current):
        raise UserError(_l("The current password is wrong."))
    user.set_password(new)
    user.rotate_session_token()
    audit.record("auth.password_changed", actor=user, target=user)


def issue_access_code(user: User, issued_by: User) -> str:
    """A one-time code the manager hands over in person; the user then sets a password."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
    user.access_code_hash = password_hasher.hash(code)
    user.password_hash = None  # the forgotten (or never set) password stops working
    user.access_code_expires_at = utcnow() + timedelta(
        seconds=current_app.config["ACCESS_CODE_MAX_AGE"]
    )
    user.rotate_session_token()
    audit.record("auth.access_code_issued", actor=issued_by, target=user)
    return code


def log_out(user: User) -> None:
    """Sign out: the session token changes, so no copy of this session's cookies (the session
    or the remember-me cookie) signs anyone in again. Other devices are signed out too."""
    user.rotate_session_token()
    audit.record("auth.logout", actor=user, target=user)


def log_out_everywhere(user: User) -> None:
    user.rotate_session_token()
    audit.record("auth.logout_everywhere", actor=user, target=user)


# --- offer agreement ------------------------------------------------------------------------


def current_offer() -> OfferVersion | None:
    return db.session.scalar(
        select(OfferVersion)
        .where(OfferVersion.published_at <= utcnow())
        .order_by(OfferVersion.published_at.desc(), OfferVersion.id.desc())
        .limit(1)
    )


OFFER_ACCEPTED_KEY = "offer_accepted"


def current_offer_id() -> int | None:
    """The current offer's id (caching.CURRENT_OFFER: asked on every page)."""

    def look_up():
        offer = current_offer()
        return offer.id if offer else None

    return caching.remember(caching.CURRENT_OFFER, "id", look_up)


caching.EVERY_PAGE.append((caching.CURRENT_OFFER, "id"))  # the gate asks on every page


def needs_offer_acceptance(user: User) -> bool:
    if user.is_staff:
        return False
    offer_id = current_offer_id()
    if offer_id is None:
        return False
    remembered = [user.id, offer_id]
    if has_request_context() and session.get(OFFER_ACCEPTED_KEY) == remembered:
        return False  # checked earlier in this (signed) session
    accepted = db.session.scalar(
        select(OfferAcceptance.id).where(
            OfferAcceptance.user_id == user.id, OfferAcceptance.offer_version_id == offer_id
        )
    )
    if accepted is not None and has_request_context():
        session[OFFER_ACCEPTED_KEY] = remembered
    return accepted is None


def accept_offer(user: User, offer: OfferVersion, ip: str | None) -> OfferAcceptance:
    acceptance = OfferAcceptance(user_id=user.id, offer_version_id=offer.id, ip=ip)
    db.session.add(acceptance)
    audit.record("offer.accepted", actor=user, target=user, version=offer.version)
    return acceptance


def publish_offer(version: str, title: str, text: str, published_by: User) -> OfferVersion:
    if db.session.scalar(select(OfferVersion.id).where(OfferVersion.version == version)):
        raise UserError(_l("Version %(version)s already exists.", version=version))
    offer = OfferVersion(
        version=version,
        title=title,
        text=text,
        published_by_id=published_by.id if published_by else None,
    )
    db.session.add(offer)
    db.session.flush()
    caching.forget_current_offer()
    audit.record("offer.published", actor=published_by, target=offer, version=version)
    return offer
