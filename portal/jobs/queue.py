"""The one background queue of the portal: Huey on SQLite (instance/huey.db) or on Redis when
configured. Every domain adds its tasks to it (statements and reminders, webhooks, mail,
imports and documents); `flask worker` runs the consumer that takes any of them.

SqliteHuey needs no extra server for development; with REDIS_URL set (production) the same
tasks run through RedisHuey and any worker on any machine takes them. Immediate mode (the task
runs inside the calling process) is for tests only: STATEMENTS_QUEUE_IMMEDIATE.
"""

import os

from huey import Huey, RedisHuey, SqliteHuey
from redis import ConnectionPool
from redis.backoff import NoBackoff
from redis.retry import Retry

# The name running deployments already use (statements were the queue's first jobs).
QUEUE_NAME = "portal-statements"
EXTENSION = "job_queue"


def make_huey(app) -> Huey:
    # Several portals (or test runs) may share one Redis: each uses its own queue name.
    name = os.environ.get("PORTAL_STATEMENTS_QUEUE_NAME") or QUEUE_NAME
    if app.config.get("REDIS_URL"):
        # Give up quickly when Redis is down (a request for work is then refused at once);
        # reads wait longer than the consumer's 1-second blocking pop.
        pool = ConnectionPool.from_url(
            app.config["REDIS_URL"],
            socket_connect_timeout=float(app.config.get("REDIS_TIMEOUT_SECONDS", 0.5)),
            socket_timeout=5,
            retry=Retry(NoBackoff(), 1),
        )
        return RedisHuey(name, connection_pool=pool)
    path = (
        app.config.get("STATEMENTS_QUEUE_PATH")
        or os.environ.get("PORTAL_STATEMENTS_QUEUE_PATH")
        or os.path.join(app.instance_path, "huey.db")
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey(name, filename=path)


def init_queue(app) -> Huey:
    huey = make_huey(app)
    huey.immediate = bool(app.config.get("STATEMENTS_QUEUE_IMMEDIATE", False))
    app.extensions[EXTENSION] = huey
    return huey


def job_queue(app) -> Huey:
    return app.extensions[EXTENSION]


def available(app) -> bool:
    """Ask the queue's storage (Redis in production) whether it answers, before taking work."""
    try:
        job_queue(app).pending_count()
    except Exception as error:  # noqa: BLE001 - any storage failure means "unavailable"
        app.logger.error("job queue unavailable (%s: %s)", type(error).__name__, error)
        return False
    return True
