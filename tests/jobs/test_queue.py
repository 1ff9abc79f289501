"""The queue scales out: per-kind limits shared by every worker (Redis), failed jobs kept and
retried from the staff dashboard, mail sent by a worker once."""

import os
import uuid

import pytest
from huey import RedisHuey
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.config import ConfigurationError, prepared_statements
from portal.jobs import kinds
from portal.jobs.limits import KindSemaphores
from portal.jobs.models import FailedJob
from portal.jobs.tasks import install_failure_record, install_limits
from tests.conftest import IN_CI
from tests.factories import login, make_organisation, make_user

REDIS_URL = os.environ.get("PORTAL_SCALE_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_huey():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} unreachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable")
    huey = RedisHuey(f"portal-test-jobs-{uuid.uuid4().hex[:8]}", url=REDIS_URL)
    yield huey
    huey.flush()
    for key in client.scan_iter(f"{huey.name}:*"):
        client.delete(key)
    client.close()


def test_limits_are_configured_per_kind_and_a_bad_entry_is_refused():
    limits = kinds.parse_limits("statements=3, mail=10")
    assert limits["statements"] == 3 and limits["mail"] == 10
    assert limits["webhooks"] == kinds.DEFAULT_LIMITS["webhooks"]
    with pytest.raises(ValueError, match="statments=3"):
        kinds.parse_limits("statments=3")
    assert kinds.kind_of("portal.billing.queue.generate_statement") == "statements"
    assert kinds.kind_of("send_mail") == "mail"
    assert kinds.kind_of("something_new") == "other"


def test_a_full_kind_defers_its_jobs_while_other_kinds_run(redis_huey):
    semaphores = KindSemaphores(
        redis_huey.storage.conn, redis_huey.name, {"statements": 1, "mail": 1}, 60
    )
    install_limits(redis_huey, semaphores, defer_seconds=30)
    ran = []

    @redis_huey.task()
    def generate_statement(job_id):
        ran.append(("statement", job_id))

    @redis_huey.task()
    def send_mail(text):
        ran.append(("mail", text))

    # Another worker is making a statement (its slot is taken).
    assert semaphores.acquire("statements", "other-worker-job")
    generate_statement(1)
    send_mail("hello")
    for _ in range(2):
        redis_huey.execute(redis_huey.dequeue())
    assert ran == [("mail", "hello")]  # the statement waits, the mail went out
    assert redis_huey.scheduled_count() == 1
    assert semaphores.running("statements") == 1
    assert semaphores.running("mail") == 0  # the mail job gave its slot back

    semaphores.release("statements", "other-worker-job")
    (deferred,) = redis_huey.scheduled()
    redis_huey.execute(deferred, timestamp=deferred.eta)  # its time has come
    assert ran[-1] == ("statement", 1)
    assert semaphores.running("statements") == 0


def test_a_slot_of_a_killed_worker_lapses_after_its_lease(redis_huey):
    semaphores = KindSemaphores(redis_huey.storage.conn, redis_huey.name, {"imports": 1}, -1)
    assert semaphores.acquire("imports", "killed")  # its lease is already over
    assert semaphores.acquire("imports", "next")


def test_a_failed_job_is_recorded_and_retried_by_staff(app, client, redis_huey):
    install_failure_record(app, redis_huey)
    calls = []

    @redis_huey.task(retries=0)
    def generate_statement(job_id):
        calls.append(job_id)
        if len(calls) == 1:
            raise RuntimeError("renderer crashed")

    generate_statement(41)
    redis_huey.execute(redis_huey.dequeue())
    (failed,) = FailedJob.query.all()
    assert failed.kind == "statements"
    assert failed.arguments == {"args": [41], "kwargs": {}}
    assert "renderer crashed" in failed.error

    customer = make_user(make_organisation("pharmacy"))
    login(client, customer)
    assert client.get("/backoffice/queue/").status_code in (403, 404)

    client = app.test_client()
    manager = make_user(staff_role="manager", login="queue.manager")
    login(client, manager)
    page = client.get("/backoffice/queue/")
    assert page.status_code == 200
    assert f'data-failed-job="{failed.id}"' in page.get_data(as_text=True)

    # No CSRF token: refused, nothing retried.
    answer = client.post(f"/backoffice/queue/failed/{failed.id}/retry", csrf=False)
    assert answer.status_code == 400
    assert FailedJob.query.one().retried_at is None

    app.extensions["job_queue"], real = redis_huey, app.extensions["job_queue"]
    try:
        answer = client.post(f"/backoffice/queue/failed/{failed.id}/retry")
    finally:
        app.extensions["job_queue"] = real
    assert answer.status_code == 302
    assert FailedJob.query.one().retried_at is not None
    event = db_event("queue.job_retried")
    assert event.actor_id == manager.id and event.details["kind"] == "statements"
    redis_huey.execute(redis_huey.dequeue())
    assert calls == [41, 41]  # run again with its arguments
    page = client.get("/backoffice/queue/").get_data(as_text=True)
    assert f'data-failed-job="{failed.id}"' not in page


def db_event(action):
    from portal.extensions import db

    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).one()


def test_prepared_statements_follow_the_pgbouncer_version():
    assert prepared_statements("auto", None) is True  # PostgreSQL itself
    assert prepared_statements("auto", "1.18") is False  # cannot keep them
    assert prepared_statements("auto", "1.21") is True  # max_prepared_statements
    assert prepared_statements("off", None) is False
    assert prepared_statements("on", "1.18") is True
    with pytest.raises(ConfigurationError):
        prepared_statements("sometimes", None)


def test_behind_an_old_pgbouncer_psycopg_does_not_prepare(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.setenv("PORTAL_DB_PGBOUNCER", "1.18")
    config = load_config(
        str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h:6432/portal"}
    )
    connect_args = config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert connect_args["prepare_threshold"] is None
    assert "options" not in connect_args  # PgBouncer refuses the start-up parameter
    monkeypatch.delenv("PORTAL_DB_PGBOUNCER")
    config = load_config(
        str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h:5432/portal"}
    )
    assert "prepare_threshold" not in config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
