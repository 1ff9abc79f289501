"""Database connections checked cheaply: only a connection that sat idle is pinged.

`pool_pre_ping` sends a round trip to the database before every checkout, i.e. before every
request's first statement, although a connection that answered a moment ago is almost
always still there. Here a connection is pinged at checkout only when it has sat in the
pool for at least `DATABASE_PING_IDLE_SECONDS` (1 s by default): a busy worker pays nothing,
and after a quiet spell (the database restarted, a proxy or firewall dropped the idle
connection) the dead connection is found and replaced before the request uses it, as with
pre-ping. `pool_recycle` (config) replaces connections older than 30 minutes in any case.

A connection lost while busy is reported by the driver as a disconnect: SQLAlchemy then
invalidates every connection of the pool, the request answers the 503 page
(portal/outages.py) and the next one connects anew.
"""

import time

from sqlalchemy import event, exc

CHECKED_IN = "portal_checked_in"


def install(engine, idle_seconds: float) -> None:
    if idle_seconds < 0:
        return  # pinging off (pool_pre_ping set instead, or nothing)

    @event.listens_for(engine, "checkin")
    def remember_checkin(dbapi_connection, record):
        record.info[CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy):
        checked_in = record.info.pop(CHECKED_IN, None)
        if checked_in is None or time.monotonic() - checked_in < idle_seconds:
            return  # a new connection, or one that answered a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means: use a new connection
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the connection did not answer the ping")
