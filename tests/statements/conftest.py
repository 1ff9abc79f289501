import pytest
from huey import SqliteHuey

from portal.statements.queue import build_queue


@pytest.fixture
def queue(app, tmp_path, monkeypatch):
    """A real SQLite-backed Huey queue of its own; `queue.run_pending()` plays the worker."""
    huey = SqliteHuey("test-statements", filename=str(tmp_path / "huey.db"))
    statement_queue = build_queue(app, huey)
    monkeypatch.setitem(app.extensions, "statements_queue", statement_queue)

    def run_pending():
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    statement_queue.run_pending = run_pending
    statement_queue.pending = lambda: huey.pending_count()
    return statement_queue
