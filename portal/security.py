"""The one place that decides access: route declarations, powers, roles, tenant scoping.

Every view declares who may use it with exactly one of the `access.*` decorators, placed
under `@bp.route`. A route without a declaration is refused (and a test fails on it).
"""

import re
import unicodedata
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import StaffRole
from portal.extensions import db
from portal.organisations.models import Membership, Organisation, Power

PUBLIC = "public"
AUTHENTICATED = "authenticated"
CUSTOMER = "customer"
POWER = "power"
STAFF = "staff"


class AccessRule:
    def __init__(self, kind, *, power=None, roles=()):
        self.kind = kind
        self.power = power
        self.roles = tuple(roles)

    def __repr__(self):
        detail = self.power or ",".join(self.roles)
        return f"<access {self.kind}{' ' + detail if detail else ''}>"

    def check(self):
        """Return None to allow, or a response/abort for the current request."""
        if self.kind == PUBLIC:
            return None
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if self.kind == AUTHENTICATED:
            return None
        if self.kind == STAFF:
            if current_user.staff_role not in self.roles:
                abort(403)
            return None
        membership = current_membership()
        if membership is None:
            abort(403)
        if self.kind == POWER and not membership.has(self.power):
            abort(403)
        return None


def _declare(rule):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            refusal = rule.check()
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        wrapper.access_rule = rule
        return wrapper

    return decorator


class access:  # noqa: N801 - used as a namespace of decorators: @access.power(...)
    public = staticmethod(_declare(AccessRule(PUBLIC)))
    authenticated = staticmethod(_declare(AccessRule(AUTHENTICATED)))
    customer = staticmethod(_declare(AccessRule(CUSTOMER)))

    @staticmethod
    def power(power: Power):
        return _declare(AccessRule(POWER, power=Power(power)))

    @staticmethod
    def staff(*roles):
        roles = roles or (StaffRole.MANAGER, StaffRole.ADMIN)
        return _declare(AccessRule(STAFF, roles=[StaffRole(r) for r in roles]))


def rule_for(view_function) -> AccessRule | None:
    return getattr(view_function, "access_rule", None)


# --- the current organisation -------------------------------------------------------------


def current_membership() -> Membership | None:
    """The membership the user works in now (chosen with the organisation switcher)."""
    if "membership" in g:
        return g.membership
    membership = None
    if current_user.is_authenticated and not current_user.is_staff:
        memberships = current_user.active_memberships
        wanted = session.get("organisation_id")
        membership = next((m for m in memberships if m.organisation_id == wanted), None)
        if membership is None and memberships:
            membership = memberships[0]
    g.membership = membership
    return membership


def current_organisation() -> Organisation | None:
    membership = current_membership()
    return membership.organisation if membership else None


def has_power(power: Power) -> bool:
    membership = current_membership()
    return membership is not None and membership.has(Power(power))


def scoped(model):
    """select(model) limited to the current organisation: the only way views list customer data."""
    organisation = current_organisation()
    if organisation is None:
        abort(403)
    return select(model).where(model.organisation_id == organisation.id)


def get_scoped_or_404(model, object_id):
    """Load one row of the current organisation; another organisation's id is a 404."""
    row = db.session.scalar(scoped(model).where(model.id == object_id))
    if row is None:
        abort(404)
    return row


def can_manage_organisation(user, organisation) -> bool:
    """Staff who may change an organisation: admins, and the manager it is assigned to."""
    if not user.is_authenticated or not user.is_staff:
        return False
    return user.is_admin or organisation.manager_id == user.id or organisation.manager_id is None


def require_manage_organisation(organisation) -> None:
    if not can_manage_organisation(current_user, organisation):
        abort(403)


# --- the gate run before every request ------------------------------------------------------

# Endpoints a signed-in user may reach before finishing set-up (password, offer acceptance).
SETUP_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "accounts.logout",
    "accounts.login_second_factor",
    "accounts.change_password",
    "accounts.accept_offer",
    "accounts.set_language",
    "system.healthz",
}


def enforce_access_declarations_and_setup():
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404 or 405 follows
    view = current_app.view_functions.get(endpoint)
    if endpoint not in ("static", "bootstrap.static") and rule_for(view) is None:
        current_app.logger.error("route %s has no access declaration; refused", endpoint)
        abort(403)
    authenticated = current_user.is_authenticated  # loads the user: the database's first use
    if g.get("database_unavailable") and endpoint != "system.healthz":
        from portal.outages import database_unavailable_page

        return database_unavailable_page()  # signed in or not: the user could not be read
    if not authenticated or endpoint in SETUP_ENDPOINTS:
        return None
    if current_user.must_change_password:
        return redirect(url_for("accounts.change_password", next=request.full_path))
    if not current_user.is_staff:
        from portal.accounts.services import needs_offer_acceptance

        if needs_offer_acceptance(current_user):
            return redirect(url_for("accounts.accept_offer", next=request.full_path))
    return None


def apply_security_headers(response):
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("PORTAL_HTTPS"):
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


# Characters that never belong in a redirect target. Browsers drop tab, CR and LF inside a URL
# and read a backslash as a slash, so "/\t/evil.example" or "/\\evil.example" would leave the site.
_MAX_NEXT_LENGTH = 2048
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _unsafe_characters(text: str, *, allow_spaces: bool) -> bool:
    for char in text:
        if char == "\\":
            return True
        category = unicodedata.category(char)
        if category[0] == "C":  # controls (tab, CR, LF, NUL, DEL, C1), format (bidi), unassigned
            return True
        if category[0] == "Z" and not (allow_spaces and char == " "):
            return True
    return False


def _leaves_the_site(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return True
    parts = urlsplit(text)
    return bool(parts.scheme or parts.netloc)


def is_safe_redirect_target(target) -> bool:
    """True for a same-site path ("/orders/?page=2"), judged after normalising the way a
    browser does: control characters and backslashes are refused outright (raw or
    percent-encoded), and the decoded form must still be a path on this site."""
    if not isinstance(target, str) or not target or len(target) > _MAX_NEXT_LENGTH:
        return False
    if _unsafe_characters(target, allow_spaces=False) or _leaves_the_site(target):
        return False
    decoded = target
    for _ in range(4):  # %252F%252F... decodes in steps; each step is judged
        if not _PERCENT_ESCAPE.search(decoded):
            break
        decoded = unquote(decoded, errors="replace")
        if _unsafe_characters(decoded, allow_spaces=True) or _leaves_the_site(decoded):
            return False
    else:
        return False  # still encoded after four rounds: no honest link looks like that
    return True


def safe_next_url(target: str | None, fallback: str) -> str:
    """The one check for every redirect target taken from the request (next=, a form's next
    field): a same-site path is followed, anything else gives the fallback. No open redirects."""
    return target if is_safe_redirect_target(target) else fallback
