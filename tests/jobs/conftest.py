"""A real queue for the background jobs, and a worker the test plays."""

import pytest
from huey import SqliteHuey

from portal.extensions import db
from portal.jobs import background
from portal.jobs.tasks import install_failure_record


@pytest.fixture
def worker(app, tmp_path, monkeypatch):
    """The jobs go to a real (SQLite) queue of their own; `worker()` plays a worker."""
    huey = SqliteHuey("test-background", filename=str(tmp_path / "huey.db"))
    monkeypatch.setitem(app.extensions, "job_queue", huey)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", True)
    monkeypatch.setitem(app.extensions, background.TASK_EXTENSION, None)
    background.install(app)
    install_failure_record(app, huey)

    def run_pending():
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        db.session.rollback()  # read what the worker committed
        return ran

    run_pending.huey = huey
    return run_pending
