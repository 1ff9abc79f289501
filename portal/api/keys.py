"""Creating, listing and revoking API keys (the organisation administrator's page uses these)."""

import hashlib
import hmac
import ipaddress
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit
from portal.api.models import ApiKey
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Power

# What every key starts with: secret scanners and people recognise it.
KEY_MARK = "sp_"
MAX_NETWORKS = 20
MAX_ACTIVE_KEYS = 50


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_hash, hash_secret(secret))


def split_token(token: str) -> tuple[str, str] | None:
    """`sp_<prefix>.<secret>` -> (prefix, secret), or None when it is not of that form."""
    if not token.startswith(KEY_MARK) or len(token) > 200:
        return None
    prefix, dot, secret = token[len(KEY_MARK) :].partition(".")
    if not dot or not prefix or not secret or not prefix.isalnum():
        return None
    return prefix, secret


def parse_networks(text: str) -> list[str]:
    """One CIDR range a line (or comma-separated), each checked by ipaddress; a bare address
    is one host. Returns the normalised ranges."""
    parts = [p.strip() for line in (text or "").splitlines() for p in line.split(",")]
    parts = [p for p in parts if p]
    if len(parts) > MAX_NETWORKS:
        raise UserError(_l("At most %(count)s ranges.", count=MAX_NETWORKS), field="networks")
    networks = []
    for part in parts:
        try:
            network = ipaddress.ip_network(part, strict=True)
        except ValueError:
            raise UserError(
                _l(
                    "«%(value)s» is not an IP range: write it as 203.0.113.0/24, "
                    "2001:db8::/32 or a single address.",
                    value=part[:60],
                ),
                field="networks",
            ) from None
        if str(network) not in networks:
            networks.append(str(network))
    return networks


def address_allowed(key: ApiKey, address: str | None) -> bool:
    networks = key.networks
    if not networks:
        return True
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in ipaddress.ip_network(n) for n in networks)


def expiry_moment(day: date) -> datetime:
    """A key valid "until" a date works through that whole day in the portal's time zone."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def local_today() -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return utcnow().astimezone(zone).date()


def create_key(membership, *, name, powers, expires_on=None, networks_text="") -> tuple:
    """A new key for the membership's organisation; returns (row, the full key shown once).

    The powers must be a subset of the creator's own; the row keeps only the secret's hash."""
    name = (name or "").strip()
    if not name:
        raise UserError(_l("Give the key a name."), field="name")
    wanted = {Power(p) for p in powers}
    if not wanted:
        raise UserError(_l("Choose at least one power."), field="powers")
    beyond = wanted - set(membership.powers) if not membership.is_blocked else wanted
    if beyond:
        raise UserError(_l("A key cannot have a power you do not have yourself."), field="powers")
    if expires_on is not None and expires_on < local_today():
        raise UserError(_l("The expiry date has already passed."), field="expires_on")
    networks = parse_networks(networks_text)
    active = db.session.scalars(
        select(ApiKey).where(
            ApiKey.organisation_id == membership.organisation_id, ApiKey.revoked_at.is_(None)
        )
    ).all()
    if sum(1 for k in active if not k.is_expired(utcnow())) >= MAX_ACTIVE_KEYS:
        raise UserError(
            _l("The organisation has %(count)s active keys already.", count=MAX_ACTIVE_KEYS),
            field="name",
        )
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        organisation_id=membership.organisation_id,
        created_by_id=membership.user_id,
        name=name[:100],
        prefix=prefix,
        secret_hash=hash_secret(secret),
        allowed_networks="\n".join(networks),
        expires_at=expiry_moment(expires_on) if expires_on else None,
    )
    key.powers = wanted
    db.session.add(key)
    db.session.flush()
    audit.record(
        "api_key.created",
        target=key,
        organisation=membership.organisation_id,
        name=key.name,
        prefix=key.prefix,
        powers=sorted(p.value for p in wanted),
        expires_on=expires_on.isoformat() if expires_on else None,
        networks=networks,
    )
    return key, f"{KEY_MARK}{prefix}.{secret}"


def revoke_key(key: ApiKey, user) -> bool:
    """Revoke at once (the next request with it gets 401); False when already revoked."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    key.revoked_by_id = user.id
    audit.record("api_key.revoked", target=key, name=key.name, prefix=key.prefix)
    return True


def keys_of(organisation_id) -> list[ApiKey]:
    return db.session.scalars(
        select(ApiKey)
        .where(ApiKey.organisation_id == organisation_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()
