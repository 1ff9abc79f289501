"""Two-factor sign-in with a one-time code from an authenticator app (TOTP), for staff."""

import base64
import io
from datetime import timedelta

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, or_, select, update

from portal import audit
from portal.accounts.models import User
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_qr(user: User, secret: str) -> str:
    """A data: URI with the QR code an authenticator app scans (SVG, made locally)."""
    issuer = current_app.config["SUPPLIER"]["name"].replace('"', "")
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=issuer)
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _accepted_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step the code belongs to (now ±30 s), or None; a step is never accepted twice."""
    code = (code or "").replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (0, -1, 1):
        step = totp.timecode(now) + offset
        moment = now + timedelta(seconds=offset * totp.interval)
        if totp.at(moment) == code and (last_step is None or step > last_step):
            return step
    return None


def enable(user: User, secret: str, code: str) -> None:
    step = _accepted_step(secret, code, None)
    if step is None:
        raise UserError(_l("The code does not match. Check the time on your phone and try again."))
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = step
    audit.record("auth.2fa_enabled", actor=user, target=user)


def verify(user: User, code: str) -> bool:
    """Accept a code once. The time step is spent by one atomic UPDATE that only succeeds
    while no later or equal step has been spent, so the same code posted by several
    sessions at once signs in exactly one of them (the others see rowcount 0). A wrong code
    is counted in the database, never in the client's (replayable) session."""
    step = _accepted_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        spent = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step, totp_failures=0, totp_failed_at=None)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount == 1:
            db.session.expire(user, ["totp_last_step", "totp_failures", "totp_failed_at"])
            return True
    _count_failure(user)
    audit.record("auth.2fa_failed", actor=None, target=user)
    return False


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _count_failure(user: User) -> None:
    """One more wrong code, atomically; failures older than the lock window are forgotten."""
    since = _window_start()
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            totp_failures=case(
                (or_(User.totp_failed_at.is_(None), User.totp_failed_at <= since), 1),
                else_=User.totp_failures + 1,
            ),
            totp_failed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["totp_failures", "totp_failed_at"])


def recent_failures(user: User) -> int:
    failures, failed_at = db.session.execute(
        select(User.totp_failures, User.totp_failed_at).where(User.id == user.id)
    ).one()
    if failed_at is None or failed_at <= _window_start():
        return 0
    return failures


def is_paused(user: User) -> bool:
    """Too many wrong codes lately: the code step refuses every code until the window ends."""
    return recent_failures(user) >= current_app.config["LOGIN_MAX_FAILURES"]


def disable(user: User, by: User) -> None:
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_failures = 0
    user.totp_failed_at = None
    audit.record("auth.2fa_disabled", actor=by, target=user)
