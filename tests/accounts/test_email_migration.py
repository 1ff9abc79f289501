"""Revision 0014 on a database that already holds addresses differing only in case."""

import pytest
from alembic import command
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from tests.test_migrations import fresh_database_url

INSERT = text(
    "INSERT INTO users (login, email, full_name, must_change_password, is_active, language,"
    " session_token, totp_enabled, notify_order_status, notify_request_answers,"
    " notify_reading_reminders, notify_news, created_at) VALUES (:login, :email, 'Имя', false,"
    " true, 'ru', :login, false, true, true, true, false, CURRENT_TIMESTAMP)"
)


@pytest.fixture
def old_database(app, tmp_path):
    url, drop = fresh_database_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade(revision="0013_search_index_direct")
        yield migrated
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def test_upgrade_stops_on_addresses_that_differ_only_in_case(old_database):
    with db.engine.begin() as connection:
        connection.execute(INSERT, {"login": "first", "email": "Buyer@Example.org"})
        connection.execute(INSERT, {"login": "second", "email": "buyer@example.org "})
        connection.execute(INSERT, {"login": "third", "email": "Other@Example.org"})
    config = current_app.extensions["migrate"].migrate.get_config()
    with pytest.raises(RuntimeError) as refused:
        command.upgrade(config, "head")  # Flask-Migrate's upgrade() would only log it
    message = str(refused.value)
    assert "buyer@example.org" in message and "first" in message and "second" in message
    assert "other@example.org" not in message
    # Once the operator has fixed the duplicate, the upgrade goes through and normalises.
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET email = 'second@example.org' WHERE login = 'second'")
        )
    upgrade()
    with db.engine.connect() as connection:
        emails = set(connection.execute(text("SELECT email FROM users")).scalars())
    assert emails == {"buyer@example.org", "second@example.org", "other@example.org"}
