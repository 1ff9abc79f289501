"""Every cached fact in one place: what is kept, for how long, and the function that forgets it.

The facts live in the app's cache (`portal.extensions.cache`, Flask-Caching: Redis when
REDIS_URL is set, as in production; a per-process SimpleCache in development and tests), never
in module globals, so every gunicorn worker and every node reads the same entries and a change
forgotten by one is forgotten for all at once.

| Fact              | Lifetime (setting)    | Forgotten by                 | Called by             |
|-------------------|-----------------------|------------------------------|-----------------------|
| SEARCH_ANSWERS    | CATALOG_CACHE_SECONDS | forget_catalogue()           | import, item edit,    |
|                   |                       |                              | promotions            |
| FILTER_CHOICES    | CATALOG_CACHE_SECONDS | forget_catalogue()           | the same              |
| SERVING_WAREHOUSE | CATALOG_CACHE_SECONDS | forget_serving_warehouse(id) | delivery addresses    |
|                   |                       | forget_warehouses()          | warehouses loaded     |
| CURRENT_OFFER     | OFFER_CACHE_SECONDS   | forget_current_offer()       | offer published       |
| CONSENT_VERSION   | CONSENT_CACHE_SECONDS | forget_consent_versions()    | consent published     |
| user snapshot     | USER_CACHE_SECONDS    | any flush or bulk statement  | the ORM session's     |
| (accounts/        | (0 without Redis)     | on users, memberships, cart  | events: every writer  |
|  session_cache.py)|                       | lines, notifications, orgs   |                       |

Lifetimes by default: 60 s for the catalogue's and the user snapshots', 30 s for the offer's
and consents'. The user snapshot (the signed-in user's columns without secrets or contact
details, memberships, organisations, the unread and cart counts) is the one entry per user;
its versions and forgetting are described in portal/accounts/session_cache.py. A lifetime
of 0 keeps nothing (the tests' default: they change data and read it at once).

How forgetting reaches every worker: each fact's keys carry a generation stored in the shared
cache itself (`<fact>:generation`). `forget_<fact>()` writes a new generation, so every entry
of the fact is unreachable for every process at once (no scan, no `clear()` of entries that
belong to others); forgetting one key deletes that key. A request reads the generations it
needs once (one round trip) and keeps them for its own duration.

Forgetting happens twice: at once (the rest of this request reads afresh) and again after the
transaction commits (portal.transactions), so that another worker that read the old rows
between the first forgetting and the commit cannot keep them.

Not data, never stale, so not listed as facts: statements built once per process
(`functools.cache` on the `_..._statement()` builders, search's `_statements`), the sort keys
of portal.collation and the holiday calendar of portal.calendar_ru (code, not rows).
"""

import secrets
from dataclasses import dataclass
from hashlib import sha256

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import cache, db


@dataclass(frozen=True)
class Fact:
    name: str
    lifetime_setting: str  # the config key giving the lifetime in seconds (0: not cached)
    description: str


SEARCH_ANSWERS = Fact(
    "catalogue-search",
    "CATALOG_CACHE_SECONDS",
    "a search's page of item ids and total (never names, prices, stock or favourites)",
)
FILTER_CHOICES = Fact(
    "catalogue-filters", "CATALOG_CACHE_SECONDS", "the categories and makers of the filter form"
)
SERVING_WAREHOUSE = Fact(
    "serving-warehouse",
    "CATALOG_CACHE_SECONDS",
    "per organisation: the id and name of the warehouse serving its default address",
)
CURRENT_OFFER = Fact("current-offer", "OFFER_CACHE_SECONDS", "the current offer version's id")
CONSENT_VERSION = Fact(
    "consent-version", "CONSENT_CACHE_SECONDS", "per purpose: the current consent version's id"
)
FACTS = (SEARCH_ANSWERS, FILTER_CHOICES, SERVING_WAREHOUSE, CURRENT_OFFER, CONSENT_VERSION)

_GENERATIONS = "portal_cache_generations"  # g: the generations read by this request
_PREFETCHED = "portal_cache_prefetched"  # g: entries read ahead in one round trip (prefetch)
_AFTER_COMMIT = "portal_cache_forget_after_commit"  # session.info: forgetting to repeat


def lifetime(fact: Fact) -> int:
    return int(current_app.config.get(fact.lifetime_setting) or 0)


def remember(fact: Fact, key, compute):
    """The fact for `key` from the cache, else `compute()` kept for the fact's lifetime
    (None is kept too: "no warehouse" is an answer)."""
    seconds = lifetime(fact)
    if not seconds:
        return compute()
    if (fact, key) in EVERY_PAGE:
        return _remember_current(fact, key, seconds, compute)
    full_key = _key(fact, key)
    prefetched = g.get(_PREFETCHED) if has_request_context() else None
    if prefetched is not None and full_key in prefetched:
        kept = prefetched.pop(full_key)
    else:
        kept = cache.get(full_key)
    if kept is not None:
        return kept[0]
    value = compute()
    cache.set(full_key, (value,), timeout=seconds)
    return value


def _remember_current(fact: Fact, key, seconds: int, compute):
    """An EVERY_PAGE fact: kept under a key without the generation, the generation inside the
    value, so that it can be read in the generations' own round trip (read_with_generations).
    An entry written under an older generation is not used: forgetting works as for the rest."""
    generation = _generation(fact)
    stable_key = _current_key(fact, key)
    prefetched = g.get(_PREFETCHED) if has_request_context() else None
    if prefetched is not None and stable_key in prefetched:
        kept = prefetched.pop(stable_key)
    else:
        kept = cache.get(stable_key)
    if kept is not None and kept[0] == generation:
        return kept[1]
    value = compute()
    cache.set(stable_key, (generation, value), timeout=seconds)
    return value


def _current_key(fact: Fact, key) -> str:
    return f"{fact.name}:current:{key!r}"


# --- the named invalidations: called by the code that changes the data ------------------------


def forget_catalogue() -> None:
    """Items, prices, promotions, categories or makers changed (import, edit, promotion)."""
    _forget_all(SEARCH_ANSWERS, FILTER_CHOICES)


def forget_serving_warehouse(organisation_id) -> None:
    """An organisation's delivery addresses (or its region) changed."""
    _forget_key(SERVING_WAREHOUSE, organisation_id)


def forget_warehouses() -> None:
    """Warehouses were added or changed their region: every organisation's answer may change."""
    _forget_all(SERVING_WAREHOUSE)


def forget_current_offer() -> None:
    """A new offer version was published."""
    _forget_all(CURRENT_OFFER)


def forget_consent_versions() -> None:
    """A new consent version was published."""
    _forget_all(CONSENT_VERSION)


# --- keys and generations ---------------------------------------------------------------------


def _key(fact: Fact, key) -> str:
    text = repr(key)
    if len(text) > 64:  # a search's filters: a digest keeps Redis keys short
        text = sha256(text.encode()).hexdigest()[:32]
    return f"{fact.name}:{_generation(fact)}:{text}"


def _generation_key(fact: Fact) -> str:
    return f"{fact.name}:generation"


def _generation(fact: Fact) -> str:
    """The fact's current generation, read from the shared cache once per request (all facts'
    generations in one round trip)."""
    known = g.setdefault(_GENERATIONS, {}) if has_request_context() else {}
    if fact.name not in known:
        values = cache.get_many(*[_generation_key(f) for f in FACTS])
        for other, value in zip(FACTS, values, strict=True):
            known.setdefault(other.name, value)
    if known[fact.name] is None:  # never written (or evicted): start one
        generation = secrets.token_hex(4)
        cache.add(_generation_key(fact), generation, timeout=0)
        known[fact.name] = cache.get(_generation_key(fact)) or generation
    return known[fact.name]


def read_with_generations(keys: list[str]) -> list:
    """The given keys of the shared cache, read in the same round trip as every fact's
    generation (which this request then keeps): the signed-in user's snapshot
    (portal/accounts/session_cache.py) costs no round trip of its own."""
    known = g.setdefault(_GENERATIONS, {})
    every_page = [_current_key(fact, key) for fact, key in EVERY_PAGE if lifetime(fact)]
    values = cache.get_many(*[_generation_key(f) for f in FACTS], *every_page, *keys)
    for fact, value in zip(FACTS, values, strict=False):
        known.setdefault(fact.name, value)
    prefetched = g.setdefault(_PREFETCHED, {})
    for stable_key, value in zip(every_page, values[len(FACTS) :], strict=False):
        prefetched.setdefault(stable_key, value)
    return values[len(FACTS) + len(every_page) :]


# (fact, key) of the facts nearly every page asks for (the gate's offer and consent versions),
# registered by their owners: kept so that read_with_generations reads them too.
EVERY_PAGE: list[tuple[Fact, object]] = []


def prefetch(*pairs: tuple[Fact, object]) -> None:
    """Read the (fact, key) entries a page is about to ask remember() for in one round trip."""
    pairs = [(fact, key) for fact, key in pairs if lifetime(fact)]
    if not pairs or not has_request_context():
        return
    keys = [_key(fact, key) for fact, key in pairs]
    prefetched = g.setdefault(_PREFETCHED, {})
    for full_key, value in zip(keys, cache.get_many(*keys), strict=True):
        prefetched.setdefault(full_key, value)


def _forget_all(*facts: Fact) -> None:
    def forget():
        known = g.setdefault(_GENERATIONS, {}) if has_request_context() else {}
        for fact in facts:
            generation = secrets.token_hex(4)
            cache.set(_generation_key(fact), generation, timeout=0)
            known[fact.name] = generation

    forget()
    _again_after_commit(forget)


def _forget_key(fact: Fact, key) -> None:
    def forget():
        cache.delete(_key(fact, key))

    forget()
    _again_after_commit(forget)


def _again_after_commit(forget) -> None:
    db.session().info.setdefault(_AFTER_COMMIT, []).append(forget)


def again_after_commit(forget) -> None:
    """Call `forget` again once the session's transaction commits (see the module's text)."""
    _again_after_commit(forget)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session):
    for forget in session.info.pop(_AFTER_COMMIT, []):
        forget()


@event.listens_for(Session, "after_soft_rollback")
def _nothing_to_forget_after_rollback(session, previous_transaction):
    if not session.in_transaction():
        session.info.pop(_AFTER_COMMIT, None)
