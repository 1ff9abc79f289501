"""A transaction the code left open ends with COMMIT only when it did nothing but read;
anything that may have written is rolled back, as before (portal/transactions.py)."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from portal.accounts.models import User
from portal.extensions import db
from portal.transactions import is_read_only
from tests.factories import login, make_organisation


@contextmanager
def endings():
    """How the transactions end while the block runs: "commit" or "rollback", in order."""
    ended = []

    def committed(_connection):
        ended.append("commit")

    def rolled_back(_connection):
        ended.append("rollback")

    event.listen(db.engine, "commit", committed)
    event.listen(db.engine, "rollback", rolled_back)
    try:
        yield ended
    finally:
        event.remove(db.engine, "commit", committed)
        event.remove(db.engine, "rollback", rolled_back)


def test_a_page_that_only_reads_ends_with_commit(app, buyer):
    client = app.test_client()
    login(client, buyer)
    with endings() as ended:
        assert client.get("/catalog/?q=нурофен").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    assert ended == ["commit", "commit"]


def test_what_a_request_wrote_without_committing_is_rolled_back(app, buyer):
    with endings() as ended:
        with app.app_context():  # as a request or a command: its own session
            make_organisation(name="Аптека Незаписанная")  # added and flushed
        with app.app_context():
            db.session.execute(
                text("UPDATE users SET full_name = 'Чужое имя' WHERE id = :id"), {"id": buyer.id}
            )
        with app.app_context():
            db.session.execute(select(User.id)).all()
            # A failure ends its transaction with a rollback.
            with pytest.raises(RuntimeError), app.app_context():
                db.session.execute(select(User.id)).all()
                raise RuntimeError("the view failed")
    assert ended == ["rollback", "rollback", "rollback", "commit"]
    db.session.expire_all()
    assert db.session.get(User, buyer.id).full_name != "Чужое имя"
    assert "Незаписанная" not in str(
        db.session.execute(text("SELECT legal_name FROM organisations")).all()
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE users SET full_name = 'x'",
        "INSERT INTO audit_events (action) VALUES ('x')",
        "DELETE FROM cart_lines",
        "SELECT id FROM catalog_stock WHERE item_id = 1 FOR UPDATE",
        "WITH moved AS (DELETE FROM cart_lines RETURNING id) SELECT count(*) FROM moved",
        "SELECT * INTO users_copy FROM users",
        "SELECT nextval('order_numbers')",
        "SELECT set_config('portal.x', '1', false)",
        "SELECT set_config(%(name)s::VARCHAR, %(value)s::VARCHAR, %(local)s)",
        "SELECT set_config('portal.x', '1', true), set_config('portal.y', '1', false)",
        "LOCK TABLE users",
        "CREATE TABLE t (id int)",
        "select 1; delete from users",
    ],
)
def test_statements_that_may_write_keep_the_rollback(statement):
    assert not is_read_only(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT users.id, users.updated_at, users.deleted_reason FROM users",
        "  select 1",
        "SELECT set_config('pg_trgm.similarity_threshold', '0.3', true)",
        "SELECT set_config(%(set_config_2)s::VARCHAR, %(set_config_3)s::VARCHAR, true) AS x",
        "WITH matches AS MATERIALIZED (SELECT id FROM catalog_items) SELECT count(*) FROM matches",
    ],
)
def test_reads_are_recognised(statement):
    assert is_read_only(statement)


@pytest.mark.postgres
def test_statements_stay_prepared_from_page_to_page(app, buyer):
    """psycopg prepares a statement on its fifth run and forgets them all at a ROLLBACK:
    the sign-in check that every page runs is prepared only if read-only pages commit."""
    name = buyer.login
    db.session.remove()
    db.engine.dispose()  # one fresh connection, used by every request below and then here
    client = app.test_client()
    login(client, name)
    for _ in range(8):
        assert client.get("/healthz").status_code == 200
    prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("FROM users" in row.statement for row in prepared), prepared
