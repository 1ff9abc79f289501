"""What the portal does when Redis or the database is unreachable (docs/OPERATIONS.md, "Outages").

Redis holds nothing the portal cannot do without for a while:
- rate limits fall back to each process's memory (Flask-Limiter's in-memory fallback, see
  `portal/config.py`), and go back to Redis once it answers again;
- the cache (`TolerantRedisCache`) takes every Redis error as a miss (the answer is then read
  from the database) and leaves Redis alone for `REDIS_RETRY_SECONDS` before trying again;
- the statement queue refuses new work with a clear message (`portal/statements/views.py`).

The database is another matter: nothing works without it, so every page answers the 503 page,
and that page, the user loader and the access log must not ask the database anything.
"""

import contextlib
import logging
import time

from flask import current_app, g, render_template
from flask_caching.backends.rediscache import RedisCache
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)

# The errors that mean "the database cannot be reached" (not a bug in a query).
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def database_unavailable_page():
    """The 503 page: standalone, it touches neither the database nor the current user."""
    g.database_unavailable = True
    return render_template("errors/503.html"), 503


def note_database_unavailable(error) -> None:
    """Remember for this request that the database is gone (the page must not query it)."""
    from portal.extensions import db

    if not g.get("database_unavailable"):
        current_app.logger.error("database unavailable: %s", error.__class__.__name__)
    g.database_unavailable = True
    with contextlib.suppress(*DATABASE_UNREACHABLE):
        db.session.rollback()  # the connection may be gone; the pool replaces it later


class TolerantRedisCache(RedisCache):
    """Flask-Caching's RedisCache where an unreachable Redis is a cache miss, never an error.

    After a failure the cache does not try Redis again for `retry_seconds`, so that pages do not
    each wait for a connection attempt while Redis is down.
    """

    def __init__(self, *args, retry_seconds: float = 10.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_seconds = retry_seconds
        self._down_until = 0.0

    @classmethod
    def factory(cls, app, config, args, kwargs):
        kwargs["retry_seconds"] = float(config.get("REDIS_RETRY_SECONDS", 10))
        return super().factory(app, config, args, kwargs)

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, error: Exception) -> None:
        if self._available():
            log.warning(
                "cache: Redis unreachable during %s (%s); reading from the database for %ss",
                operation,
                error.__class__.__name__,
                self.retry_seconds,
            )
        self._down_until = time.monotonic() + self.retry_seconds

    def _tolerant(self, operation, default, *args, **kwargs):
        import redis

        if not self._available():
            return default
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except (redis.RedisError, OSError) as error:
            self._failed(operation, error)
            return default

    def get(self, key):
        return self._tolerant("get", None, key)

    def get_many(self, *keys):
        return self._tolerant("get_many", [None] * len(keys), *keys)

    def has(self, key):
        return self._tolerant("has", False, key)

    def set(self, key, value, timeout=None):
        return self._tolerant("set", False, key, value, timeout)

    def add(self, key, value, timeout=None):
        return self._tolerant("add", False, key, value, timeout)

    def set_many(self, mapping, timeout=None):
        return self._tolerant("set_many", [], mapping, timeout)

    def delete(self, key):
        return self._tolerant("delete", False, key)

    def delete_many(self, *keys):
        return self._tolerant("delete_many", [], *keys)

    def inc(self, key, delta=1):
        return self._tolerant("inc", None, key, delta)

    def dec(self, key, delta=1):
        return self._tolerant("dec", None, key, delta)

    def clear(self):
        return self._tolerant("clear", False)


__all__ = [
    "DATABASE_UNREACHABLE",
    "TolerantRedisCache",
    "database_unavailable_page",
    "note_database_unavailable",
]
