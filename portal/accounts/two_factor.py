"""Two-factor sign-in with a one-time code from an authenticator app (TOTP), for staff."""

import base64
import io
from datetime import timedelta

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.accounts.models import User
from portal.accounts.services import AccountError
from portal.database import utcnow


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
        raise AccountError(
            _l("The code does not match. Check the time on your phone and try again.")
        )
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = step
    audit.record("auth.2fa_enabled", actor=user, target=user)


def verify(user: User, code: str) -> bool:
    step = _accepted_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        audit.record("auth.2fa_failed", actor=None, target=user)
        return False
    user.totp_last_step = step
    return True


def disable(user: User, by: User) -> None:
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    audit.record("auth.2fa_disabled", actor=by, target=user)
