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

from portal import audit, transactions
from portal.accounts.models import StaffRole
from portal.extensions import db
from portal.organisations.models import Membership, Organisation, Power

PUBLIC = "public"
AUTHENTICATED = "authenticated"
CUSTOMER = "customer"
POWER = "power"
STAFF = "staff"
CURATOR = "curator"

# Methods that only read: the curator rule (below) guards the others.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AccessRule:
    def __init__(
        self, kind, *, power=None, kinds=(), roles=(), model=None, argument=None, delegate=None
    ):
        self.kind = kind
        self.power = power
        self.kinds = tuple(kinds)  # organisation kinds the route exists for; empty: all
        self.roles = tuple(roles)
        self.model = model
        self.argument = argument
        self.delegate = delegate

    def __repr__(self):
        detail = self.power or ",".join(self.roles)
        return f"<access {self.kind}{' ' + detail if detail else ''}>"

    def check(self, view_args=None):
        """Return None to allow, or a response/abort for the current request."""
        if self.kind == PUBLIC:
            return None
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if self.kind == AUTHENTICATED:
            return None
        if self.kind in (STAFF, CURATOR):
            if current_user.staff_role not in self.roles:
                abort(403)
            if self.kind == CURATOR and request.method not in SAFE_METHODS:
                row = db.get_or_404(self.model_class(), (view_args or {})[self.argument])
                if self.delegate is not None and self.delegate(row, current_user):
                    return None
                organisation = self.organisation_of(row)
                if organisation is not None:  # a row for every customer has no curator
                    require_manage_organisation(organisation)
            return None
        membership = current_membership()
        if membership is None:
            abort(403)
        if self.kinds and membership.organisation.kind not in self.kinds:
            abort(404)  # gas customers have no catalogue: for them the page does not exist
        if self.kind == POWER and not membership.has(self.power):
            abort(403)
        return None

    def model_class(self):
        """The mapped class; a lower room may name an upper room's model by its class name."""
        if not isinstance(self.model, str):
            return self.model
        for mapper in db.Model.registry.mappers:
            if mapper.class_.__name__ == self.model:
                return mapper.class_
        raise LookupError(f"no model named {self.model}")

    @staticmethod
    def organisation_of(row) -> Organisation | None:
        """The organisation that owns the row the route's argument names."""
        if isinstance(row, Organisation):
            return row
        if row.organisation_id is None:
            return None
        return db.get_or_404(Organisation, row.organisation_id)


def _declare(rule):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            refusal = rule.check(kwargs)
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
    def customer_of(kinds):
        """Any member of an organisation of one of `kinds`; for other kinds the route does not
        exist (404), and the menu hides its entry by the same rule."""
        return _declare(AccessRule(CUSTOMER, kinds=kinds))

    @staticmethod
    def power(power: Power, *, kinds=()):
        """A member with `power`, of an organisation of one of `kinds` (all when empty); the
        menu shows the route's entry by the same rule."""
        return _declare(AccessRule(POWER, power=Power(power), kinds=kinds))

    @staticmethod
    def staff(*roles):
        roles = roles or (StaffRole.MANAGER, StaffRole.ADMIN)
        return _declare(AccessRule(STAFF, roles=[StaffRole(r) for r in roles]))

    @staticmethod
    def curator(model, argument, *, delegate=None):
        """Staff route that changes one organisation's data: the curator rule on every write.

        `model` is the row the URL argument `argument` names (the organisation itself or a row
        with `organisation_id`). Reading stays open to every manager; a POST (or any other
        unsafe method) by a manager who does not curate that organisation is refused with 403
        and recorded in the audit log. Admins may always; so may staff for whom
        `delegate(row, user)` is true (the manager a request was handed to).
        """
        return _declare(
            AccessRule(
                CURATOR,
                roles=[StaffRole.MANAGER, StaffRole.ADMIN],
                model=model,
                argument=argument,
                delegate=delegate,
            )
        )


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
    """The curator rule: staff who may change an organisation's data.

    Admins, and the manager the organisation is assigned to (its curator); an organisation
    no manager curates yet is open to every manager.
    """
    if not user.is_authenticated or not user.is_staff:
        return False
    return user.is_admin or organisation.manager_id == user.id or organisation.manager_id is None


def require_manage_organisation(organisation) -> None:
    """Refuse (403, audited) a change to an organisation by staff who do not curate it."""
    if can_manage_organisation(current_user, organisation):
        return
    if not transactions.session_wrote(db.session()):
        # Checked before the view changes anything: the refusal is the only fact kept (a
        # half-made change, were there one, is rolled back with the audit event).
        transactions.keep_on_refusal()
    audit.record(
        "access.curator_refused",
        target=organisation,
        organisation=organisation,
        endpoint=request.endpoint,
        method=request.method,
    )
    abort(403)


# --- the gate run before every request ------------------------------------------------------

# Endpoints a signed-in user may reach before finishing set-up (password, offer acceptance,
# the consent to personal data processing and the texts it links to).
SETUP_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "accounts.logout",
    "accounts.login_second_factor",
    "accounts.change_password",
    "accounts.accept_offer",
    "privacy.accept_portal_consent",
    "privacy.show_policy",
    "privacy.show_text",
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
    if request.path.startswith("/api/"):
        # A key acts for its creator, but the set-up pages (offer, consent, new password) are
        # a browser's: the API never answers with a redirect to them.
        return None
    if current_user.must_change_password:
        return redirect(url_for("accounts.change_password", next=request.full_path))
    if not current_user.is_staff:
        from portal.accounts.services import needs_offer_acceptance

        if needs_offer_acceptance(current_user):
            return redirect(url_for("accounts.accept_offer", next=request.full_path))
        from portal.privacy.consents import needs_portal_consent

        # After the offer, never inside it: the consent is a separate document (152-ФЗ art. 9).
        if needs_portal_consent(current_user):
            return redirect(url_for("privacy.accept_portal_consent", next=request.full_path))
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
