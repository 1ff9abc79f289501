"""The signed-in user, their memberships and organisations and the counts beside the menu,
read from the database once and kept in the shared cache until any of them changes.

Every page needs the user (the session token, blocked or not, powers, organisation kind), the
unread notices under the bell and the lines in the cart. Read from PostgreSQL that is BEGIN,
two statements and COMMIT (4 round trips) on every request; here it is one Redis round trip
(`caching.read_with_generations`: these keys ride along with the facts' generations).

What keeps it exact — security first, a blocked user or a removed power takes effect on the
very next request:

- Each user has a **version** in the shared cache (`user-version:<id>`, a random token) and
  all users one **generation** (`user-snapshots:generation`). A snapshot is kept with the
  version and generation it was read under and used only while both are unchanged.
- **Every write is seen by the ORM session itself**, not by a list of call sites: after each
  flush, any user, membership, cart line or notification added, changed or deleted gives its
  user a new version; any organisation changed gives every user a new generation. A bulk
  UPDATE/DELETE/INSERT through the session on those tables does the same (for the user named
  in its WHERE clause, else for everyone), and so does a textual statement that names one of
  the tables. The new version is written at once and again after the commit, so another
  worker that read the old rows in between cannot keep them: it stored them under the old
  version, which nobody asks for any more.
- A snapshot lives at most USER_CACHE_SECONDS (0 by default: off; e.g. 60): the bound for
  writes that bypass the portal (psql) or that happen while this process cannot reach Redis
  (the failed write is logged as an error).
- It is on only when USER_CACHE_SECONDS is set, and belongs with a shared cache
  (PORTAL_REDIS_URL): a per-process cache could not hear another worker's change. While the
  database is away, a kept user still signs a page in; pages that need no query then answer.

What is kept: the column values of the user, their memberships and those organisations (no
relationship beyond), the unread count, and the menu badges per (entry, organisation). The
objects rebuilt from it are added to the request's session as persistent, unchanged rows, so
views read and write them exactly as if loaded by a query.
"""

import hashlib
import hmac
import logging
import re
import secrets

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, TextClause
from sqlalchemy.sql.operators import eq, in_op, or_

from portal import caching
from portal.extensions import cache

log = logging.getLogger(__name__)

GENERATION = "user-snapshots:generation"
# The prefixes of every key this module writes (portal/caching.py lists them beside its facts).
KEY_PREFIXES = {"user-snapshots", "user-version", "user-snapshot"}
_LOADED = "portal_user_snapshot"  # g: (key, version stamp, data, unread, badges, changed)

# Tables whose rows decide what a snapshot holds: table -> the column naming the user.
USER_TABLES = {
    "users": "id",
    "memberships": "user_id",
    "cart_lines": "user_id",
    "notifications": "user_id",
}
# Tables a change of which may concern any user (an organisation's kind, name, activity).
EVERYONE_TABLES = {"organisations"}
_TEXT_WRITE = re.compile(
    r"\b(update|delete\s+from|insert\s+into)\s+\"?("
    + "|".join([*USER_TABLES, *EVERYONE_TABLES])
    + r")\b",
    re.IGNORECASE,
)


def enabled() -> bool:
    return has_request_context() and bool(current_app.config.get("USER_CACHE_SECONDS"))


def _version_key(user_id) -> str:
    return f"user-version:{user_id}"


def _snapshot_key(user_id) -> str:
    return f"user-snapshot:{user_id}"


# --- reading -------------------------------------------------------------------------------


def load(user_id: int, read_from_database):
    """The user `user_id` (with memberships, organisations and the unread count), from the
    snapshot when it is current, else `read_from_database()` kept for the next requests."""
    if not enabled() or _in_session(user_id):
        # Without the cache; or asked again in this request (the session cookie failed, the
        # remember-me cookie is tried): the row this request already holds is the one to use.
        return read_from_database()
    generation, version, kept = caching.read_with_generations(
        [GENERATION, _version_key(user_id), _snapshot_key(user_id)]
    )
    stamp = (generation, version) if generation and version else None
    if stamp is not None and kept is not None and kept[0] == stamp:
        _stamp, data, unread, badges = kept
        user = _rebuild(data, unread)
        setattr(g, _LOADED, [user_id, stamp, data, unread, dict(badges), False])
        return user
    if stamp is None:
        stamp = _start_stamp(user_id, generation, version)
    user = read_from_database()
    if user is not None and stamp is not None:
        snapshot = _snapshot_of(user)
        setattr(g, _LOADED, [user_id, stamp, snapshot, user.unread_notifications, {}, True])
    return user


def _in_session(user_id) -> bool:
    from portal.accounts.models import User
    from portal.extensions import db

    session = db.session()
    return session.identity_map.get(session.identity_key(User, user_id)) is not None


def _start_stamp(user_id, generation, version):
    """A version and generation for a user who has none yet (first request, or evicted)."""
    if not generation:
        generation = secrets.token_hex(8)
        if not cache.add(GENERATION, generation, timeout=0):
            return None  # another worker started one first (or Redis is away): next time
    if not version:
        version = secrets.token_hex(8)
        if not cache.add(_version_key(user_id), version, timeout=0):
            return None
    return (generation, version)


def badge(endpoint: str, membership, count):
    """A menu badge's count (navigation.badges_for), kept with the user's snapshot."""
    loaded = g.get(_LOADED) if enabled() else None
    if loaded is None or loaded[0] != membership.user_id:
        return count(membership)
    key = (endpoint, membership.organisation_id)
    badges = loaded[4]
    if key not in badges:
        badges[key] = count(membership)
        loaded[5] = True
    return badges[key]


def store_if_changed(response):
    """after_request: keep what this request read from the database for the next ones."""
    loaded = g.pop(_LOADED, None)
    if loaded is not None and loaded[5] and response.status_code < 500:
        user_id, stamp, data, unread, badges, _changed = loaded
        seconds = int(current_app.config.get("USER_CACHE_SECONDS") or 0)
        cache.set(_snapshot_key(user_id), (stamp, data, unread, badges), timeout=seconds)
    return response


# Never kept: secrets, and personal data no page needs before its own work (a view that reads
# one of them loads them with one query, as an expired attribute). The session token is kept
# as its digest only (token_matches).
NOT_KEPT = {
    "users": {
        "password_hash",
        "access_code_hash",
        "totp_secret",
        "session_token",
        "login",
        "email",
        "phone",
        "unread_notifications",
    },
    "organisations": {"bank_details", "email", "phone", "legal_address", "inn", "kpp", "ogrn"},
}


def _columns(obj) -> dict:
    state = obj.__dict__
    left_out = NOT_KEPT.get(obj.__table__.name, ())
    return {
        attr.key: state[attr.key]
        for attr in obj.__mapper__.column_attrs
        if attr.key in state and attr.key not in left_out
    }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _snapshot_of(user) -> tuple:
    return (
        _columns(user),
        [(_columns(m), _columns(m.organisation)) for m in user.memberships],
        _digest(user.session_token),
    )


def token_matches(user, token: str) -> bool:
    """The session token of the cookie is the user's (compared with the kept digest when the
    user came from a snapshot: the token itself is never written to the cache)."""
    digest = getattr(user, "_portal_token_digest", None)
    if digest is not None:
        return hmac.compare_digest(digest, _digest(token))
    return hmac.compare_digest(user.session_token or "", token)


def _detached(cls, values: dict):
    obj = cls.__mapper__.class_manager.new_instance()
    for key, value in values.items():
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)  # persistent once added; unset attributes load lazily
    return obj


def _rebuild(data, unread):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.organisations.models import Membership, Organisation

    configure_mappers()  # a fresh worker may serve a snapshot before its first query
    user_values, membership_values, token_digest = data
    user = _detached(User, user_values)
    user._portal_token_digest = token_digest  # not a column: token_matches reads it
    memberships = []
    session = db.session()
    for values, organisation_values in membership_values:
        membership = _detached(Membership, values)
        organisation = session.identity_map.get(
            session.identity_key(Organisation, organisation_values["id"])
        ) or _detached(Organisation, organisation_values)
        set_committed_value(membership, "organisation", organisation)
        set_committed_value(membership, "user", user)
        memberships.append(membership)
    set_committed_value(user, "memberships", memberships)
    set_committed_value(user, "unread_notifications", unread)
    session.add(user)  # and, by cascade, its memberships and organisations: unchanged rows
    return user


# --- forgetting: every write the session sees ------------------------------------------------


def _forget(user_ids: set, everyone: bool) -> None:
    if not user_ids and not everyone:
        return
    if has_request_context():
        loaded = g.get(_LOADED)
        if loaded is not None and (everyone or loaded[0] in user_ids):
            loaded[4].clear()  # this request's own change: its counts are read afresh
            loaded[5] = False  # and nothing it read before the change is kept

    def forget():
        token = secrets.token_hex(8)
        if everyone:
            written = cache.set(GENERATION, token, timeout=0)
        else:
            written = cache.set_many({_version_key(i): token for i in user_ids}, timeout=0)
        if written is False or written == []:
            log.error(
                "user snapshots: could not record a change of %s in the shared cache; "
                "old snapshots may be used for up to USER_CACHE_SECONDS",
                "every user" if everyone else sorted(user_ids),
            )

    if not _cache_in_use():
        return
    forget()
    caching.again_after_commit(forget)


def _cache_in_use() -> bool:
    try:
        return bool(current_app.config.get("USER_CACHE_SECONDS"))
    except RuntimeError:  # no application: nothing can be cached
        return False


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    user_ids, everyone = set(), False
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(getattr(obj, "__table__", None), "name", None)
        if table in EVERYONE_TABLES:
            everyone = True
        elif table in USER_TABLES:
            user_ids.update(_user_ids_of(obj, USER_TABLES[table]))
    user_ids.discard(None)
    _forget(user_ids, everyone)


def _user_ids_of(obj, column: str) -> set:
    from sqlalchemy import inspect

    history = inspect(obj).attrs[column].history
    return {*history.added, *history.deleted, *history.unchanged, getattr(obj, column, None)}


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if state.is_select:
        return
    statement = state.statement
    if isinstance(statement, TextClause):
        if _TEXT_WRITE.search(statement.text):
            _forget(set(), True)
        return
    table = getattr(getattr(statement, "table", None), "name", None)
    if table in EVERYONE_TABLES:
        _forget(set(), True)
    elif table in USER_TABLES:
        named = None if state.is_insert else _named_users(statement, table, state)
        _forget(named or set(), named is None)


def _named_users(statement, table: str, state) -> set | None:
    """The users a bulk UPDATE/DELETE's WHERE clause names (`user_id = x` or `IN (...)`, AND
    other conditions), or None when it does not say (then every user's snapshot is forgotten)."""
    where = getattr(statement, "whereclause", None)
    if where is None:
        return None
    column = USER_TABLES[table]
    params = state.parameters or {}
    nodes = list(visitors.iterate(where))
    if any(getattr(node, "operator", None) is or_ for node in nodes):
        return None
    for node in nodes:
        if (
            isinstance(node, BinaryExpression)
            and node.operator in (eq, in_op)
            and getattr(node.left, "name", None) == column
            and getattr(getattr(node.left, "table", None), "name", None) == table
            and isinstance(node.right, BindParameter)
        ):
            value = params.get(node.right.key, node.right.effective_value)
            values = value if isinstance(value, list | tuple | set | frozenset) else [value]
            return {v for v in values if v is not None}
    return None
