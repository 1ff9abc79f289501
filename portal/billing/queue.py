"""The background queue for statements and payment reminders: Huey on SQLite (instance/) or
on Redis when configured.

SqliteHuey needs no extra server for development; with REDIS_URL set (production) the same
task runs through RedisHuey. `flask worker` runs the consumer. Immediate mode (the task runs
inside the calling process) is for tests only: STATEMENTS_QUEUE_IMMEDIATE.
"""

import os
from dataclasses import dataclass

from huey import Huey, RedisHuey, SqliteHuey, crontab
from redis import ConnectionPool
from redis.backoff import NoBackoff
from redis.retry import Retry

QUEUE_NAME = "portal-statements"


@dataclass
class StatementQueue:
    huey: Huey
    generate: object  # the Huey task: generate(job_id) enqueues
    remind: object = None  # the Huey task: remind(day or None) sends the payment reminders

    def enqueue(self, job_id: int):
        return self.generate(job_id)


def make_huey(app) -> Huey:
    # Several portals (or test runs) may share one Redis: each uses its own queue name.
    name = os.environ.get("PORTAL_STATEMENTS_QUEUE_NAME") or QUEUE_NAME
    if app.config.get("REDIS_URL"):
        # Give up quickly when Redis is down (a statement request is then refused at once);
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


def build_queue(app, huey: Huey) -> StatementQueue:
    @huey.task(retries=0, context=False)
    def generate_statement(job_id):
        from portal.billing.statements import run_job

        # A request context (not only an app context): the shared template context processor
        # and url_for expect one; the worker has no real request.
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            run_job(job_id)

    @huey.task(retries=0, context=False)
    def send_payment_reminders(day_iso=None):
        from datetime import date

        from portal import transactions
        from portal.billing.reminders import send_payment_reminders as send

        base_url = app.config["PORTAL_BASE_URL"]
        with app.test_request_context(base_url=base_url), transactions.unit_of_work():
            send(date.fromisoformat(day_iso) if day_iso else None)

    # The worker sends the day's reminders every morning (09:00 Moscow); a cron run of
    # `flask billing remind` as well sends nothing twice (what was sent is stored).
    @huey.periodic_task(crontab(minute="0", hour="6"), retries=0, context=False)
    def daily_payment_reminders():
        send_payment_reminders.call_local()

    return StatementQueue(huey, generate_statement, send_payment_reminders)


def init_queue(app) -> None:
    huey = make_huey(app)
    huey.immediate = bool(app.config.get("STATEMENTS_QUEUE_IMMEDIATE", False))
    app.extensions["statements_queue"] = build_queue(app, huey)


def statement_queue(app) -> StatementQueue:
    return app.extensions["statements_queue"]
