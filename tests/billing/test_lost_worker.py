"""A worker that dies in the middle of a statement: the job is requeued, then reported failed,
never left "being prepared" for ever."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from huey import SqliteHuey
from sqlalchemy import select

from portal.billing.ledger import post_charge, post_payment
from portal.billing.models import JobStatus, StatementJob
from portal.billing.queue import build_queue
from portal.database import utcnow
from portal.extensions import db
from portal.jobs.queue import QUEUE_NAME
from tests.billing.test_statements import request

ROOT = Path(__file__).resolve().parents[2]


def job():
    db.session.expire_all()
    return db.session.scalar(select(StatementJob))


def test_a_stalled_job_is_requeued_once_then_reported_failed(
    app,
    login_as,
    buyer,
    ledger,
    queue,
):
    client = login_as(buyer)
    request(client)
    queue.run_pending()
    assert job().status == JobStatus.DONE
    # Pretend the worker took the job up and died: "running" for longer than any statement.
    stalled = job()
    stalled.status, stalled.progress = JobStatus.RUNNING, 20
    stalled.started_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    status = client.get(f"/statements/{stalled.id}/status").json
    assert status["status"] == "queued"
    assert queue.pending() == 1  # handed to the worker again
    stalled = job()
    stalled.status, stalled.started_at, stalled.attempts = (
        JobStatus.RUNNING,
        utcnow() - timedelta(minutes=30),
        2,
    )
    db.session.commit()
    status = client.get(f"/statements/{stalled.id}/status").json
    assert status["status"] == "failed"
    page = client.get(f"/statements/{stalled.id}").get_data(as_text=True)
    assert "/retry" in page  # the customer can try again


def test_worker_killed_mid_statement_recovers_with_a_new_worker(
    app, login_as, buyer, pharmacy, tmp_path, monkeypatch
):
    for day in range(600):  # a long statement, so the worker is caught in the middle of it
        entry_date = date(2025, 1, 1) + timedelta(days=day % 360)
        post_charge(
            pharmacy.id,
            "1500.00",
            entry_date=entry_date,
            description="Отгрузка",
            document_number=f"УПД-{day:04d}",
        )
        post_payment(
            pharmacy.id,
            "1000.00",
            entry_date=entry_date,
            description="Оплата",
            document_number=f"ПП-{day:04d}",
        )
    db.session.commit()
    queue_file = tmp_path / "huey.db"
    monkeypatch.setitem(
        app.extensions,
        "statements_queue",
        build_queue(app, SqliteHuey(QUEUE_NAME, filename=str(queue_file))),
    )
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PORTAL_STATEMENTS_QUEUE_PATH": str(queue_file),
        "PORTAL_REPORT_DIR": app.config["REPORT_DIR"],
        "PORTAL_SECRET_KEY": "worker-test",
    }
    client = login_as(buyer)
    request(client, start="2025-01-01", end="2025-12-31")

    def start_worker():
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_for(status, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if job() is not None and job().status == status:
                return True
            time.sleep(0.05)
        return False

    worker = start_worker()
    try:
        assert wait_for(JobStatus.RUNNING, 60), "the worker never took the job up"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the machine lost the worker mid-statement
        worker.wait()
    assert job().status == JobStatus.RUNNING and job().pdf_name is None
    app.config["STATEMENT_JOB_TIMEOUT_MINUTES"] = 0.01
    try:
        time.sleep(1)
        assert client.get(f"/statements/{job().id}/status").json["status"] == "queued"
    finally:
        app.config["STATEMENT_JOB_TIMEOUT_MINUTES"] = 10
    worker = start_worker()
    try:
        assert wait_for(JobStatus.DONE, 120), f"not done: {job().status} {job().error}"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait()
    assert job().attempts == 2
    response = client.get(f"/statements/{job().id}/statement.pdf")
    try:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    finally:
        response.close()
