"""Who calls the API: `Authorization: Bearer <key>` only (cookies never authenticate /api).

A key is refused (401) when it is unknown, wrong, revoked or expired, or when its organisation
is blocked or its creator no longer may act there (blocked, removed, deactivated); a request
from outside the key's allowed networks gets 403. A refusal of a known key is a security
event in the audit log, at most once a minute per key. A valid key acts for its organisation
as its creator, with the key's powers limited to those the creator holds now.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from portal import audit, transactions
from portal.api import keys
from portal.api.models import ApiKey
from portal.api.problems import Problem
from portal.database import utcnow
from portal.extensions import db
from portal.organisations.models import Membership, Power
from portal.security import AccessRule, _declare

API_KEY = "api_key"
# Writes of last use and audit entries for refusals happen at most this often per key.
WRITE_INTERVAL = timedelta(seconds=60)
CHALLENGE = 'Bearer realm="api"'


class ApiMembership:
    """The membership a key acts in: what scoped(), current_organisation() and the services
    read, with the key's powers (never more than the creator's own)."""

    def __init__(self, key: ApiKey, membership: Membership):
        self.key = key
        self.id = membership.id
        self.user = membership.user
        self.user_id = membership.user_id
        self.organisation = membership.organisation
        self.organisation_id = membership.organisation_id
        self.is_blocked = False
        self.powers = key.powers & membership.powers

    def has(self, power: Power) -> bool:
        return power in self.powers


@dataclass(frozen=True)
class Outcome:
    key: ApiKey | None
    problem: Problem | None


def _unauthorized(detail, slug="unauthorized"):
    return Problem(401, detail, slug=slug, headers={"WWW-Authenticate": CHALLENGE})


def bearer_token() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def current_outcome() -> Outcome:
    """The key of this request (checked once and remembered for the request)."""
    if "api_outcome" not in g:
        g.api_outcome = _authenticate()
    return g.api_outcome


def current_key() -> ApiKey | None:
    return current_outcome().key


def _authenticate() -> Outcome:
    token = bearer_token()
    if token is None:
        return Outcome(
            None, _unauthorized(_l("Send the API key in the header «Authorization: Bearer …»."))
        )
    parts = keys.split_token(token)
    if parts is None:
        return Outcome(None, _unauthorized(_l("This is not an API key of this portal.")))
    prefix, secret = parts
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not keys.secret_matches(key, secret):
        if key is not None:
            log_refusal(key, "wrong_secret")
        return Outcome(None, _unauthorized(_l("The API key is not valid.")))
    now = utcnow()
    if key.revoked_at is not None:
        log_refusal(key, "revoked")
        return Outcome(None, _unauthorized(_l("The API key has been revoked."), "key-revoked"))
    if key.is_expired(now):
        log_refusal(key, "expired")
        return Outcome(None, _unauthorized(_l("The API key has expired."), "key-expired"))
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == key.created_by_id,
            Membership.organisation_id == key.organisation_id,
        )
    )
    if (
        membership is None
        or membership.is_blocked
        or not membership.organisation.is_active
        or not membership.user.is_active
    ):
        log_refusal(key, "blocked")
        return Outcome(
            None,
            _unauthorized(
                _l("The key's organisation or the user who created it is blocked."), "key-blocked"
            ),
        )
    if not keys.address_allowed(key, request.remote_addr):
        log_refusal(key, "address", address=request.remote_addr)
        return Outcome(
            None,
            Problem(
                403,
                _l("The key may not be used from this address (%(address)s).", address=_ip()),
                slug="address-not-allowed",
            ),
        )
    _note_use(key, now)
    g._login_user = membership.user  # Flask-Login's current_user: the key's creator
    g.membership = ApiMembership(key, membership)
    return Outcome(key, None)


def _ip() -> str:
    return request.remote_addr or "?"


def _note_use(key: ApiKey, now) -> None:
    if key.last_used_at is not None and key.last_used_at > now - WRITE_INTERVAL:
        return
    db.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - WRITE_INTERVAL),
        )
        .values(last_used_at=now, last_used_ip=_ip()[:64])
        .execution_options(synchronize_session=False)
    )


def log_refusal(key: ApiKey, reason: str, **details) -> None:
    """A refused use of a known key: to the audit log, at most once a minute per key."""
    now = utcnow()
    result = db.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(
                ApiKey.last_refusal_logged_at.is_(None),
                ApiKey.last_refusal_logged_at <= now - WRITE_INTERVAL,
            ),
        )
        .values(last_refusal_logged_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        audit.record(
            "api_key.refused",
            target=key,
            organisation=key.organisation_id,
            reason=reason,
            method=request.method,
            path=request.path[:200],
            **details,
        )
    transactions.keep_on_refusal()  # the request is refused: the event stays


class ApiKeyRule(AccessRule):
    """The access declaration of an API route: a valid key, with `power` if one is named."""

    def __init__(self, power: Power | None):
        super().__init__(API_KEY, power=power)

    def check(self, view_args=None):
        outcome = current_outcome()
        if outcome.problem is not None:
            raise outcome.problem
        _require_accepted_documents(g.membership.user)
        if self.power is not None and not g.membership.has(self.power):
            log_refusal(outcome.key, "missing_power", power=self.power.value)
            raise Problem(
                403,
                _l("The key does not have the power «%(power)s».", power=self.power.value),
                slug="missing-power",
            )
        return None


def _require_accepted_documents(user) -> None:
    """The key acts for its creator: until they accept the current offer and the portal's
    personal data consent on the portal's pages, the key is refused (403, not a redirect)."""
    from portal.accounts.services import needs_offer_acceptance
    from portal.privacy.consents import needs_portal_consent

    if needs_offer_acceptance(user) or needs_portal_consent(user):
        raise Problem(
            403,
            _l(
                "The user who created the key must first sign in to the portal and accept the "
                "current offer and consent."
            ),
            slug="offer-not-accepted",
        )


def requires(power: Power | None = None):
    """Declare an API route: `@requires(Power.VIEW_PRICES)` (None: any valid key)."""
    return _declare(ApiKeyRule(Power(power) if power is not None else None))


def rate_limit_key() -> str:
    """Flask-Limiter's bucket: per key; requests without a valid key share their address's."""
    key = current_key()
    return f"api-key:{key.id}" if key is not None else f"api-ip:{_ip()}"
