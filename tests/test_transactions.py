"""One transaction rule (portal/transactions.py): a request commits at its end when it
succeeded, and rolls back what it wrote when it was refused or failed."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from portal import transactions
from portal.accounts.models import User
from portal.extensions import db
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


def test_a_context_left_open_outside_a_request_is_rolled_back(app, buyer):
    """A command or job that did not use unit_of_work() keeps nothing."""
    name, organisations = buyer.full_name, _names()
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
    assert ended == ["rollback", "rollback", "rollback", "rollback"]
    db.session.expire_all()
    assert db.session.get(User, buyer.id).full_name == name
    assert _names() == organisations


def _names():
    return set(db.session.execute(text("SELECT legal_name FROM organisations")).scalars())


@pytest.mark.parametrize(
    ("status", "refused", "kept", "committed"),
    [
        (200, False, False, True),  # the view succeeded
        (302, False, False, True),  # and redirected
        (302, True, False, False),  # a UserError flashed before the redirect: refuse()
        (422, False, False, False),  # a refused form re-rendered
        (500, False, False, False),
        (422, False, True, True),  # keep_on_refusal(): a failed sign-in counted
    ],
)
def test_the_request_boundary_commits_or_rolls_back(app, status, refused, kept, committed):
    with app.test_request_context("/", method="POST"):
        make_organisation(name="Аптека На Границе")  # added and flushed by the view
        if refused:
            transactions.refuse()
        if kept:
            transactions.keep_on_refusal()
        transactions.end_request(db, status)
    db.session.remove()
    assert ("Аптека На Границе" in _names()) is committed


def test_a_refused_request_that_only_read_still_ends_with_commit(app):
    """psycopg keeps its prepared statements through a COMMIT, not a ROLLBACK."""
    with endings() as ended, app.test_request_context("/"):
        db.session.execute(select(User.id)).all()
        transactions.end_request(db, 404)
    assert ended == ["commit"]


def test_unit_of_work_commits_a_command_or_rolls_it_back(app):
    before = _names()
    with transactions.unit_of_work():
        make_organisation(name="Аптека Из Команды")
    with pytest.raises(RuntimeError), transactions.unit_of_work():
        make_organisation(name="Аптека Упавшей Команды")
        raise RuntimeError("the job failed")
    db.session.remove()
    assert _names() == before | {"Аптека Из Команды"}  # and not the failed one


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
