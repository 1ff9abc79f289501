"""Test fixtures: an app on SQLite (default) or a throwaway PostgreSQL database.

Set PORTAL_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run
the suite on PostgreSQL: a fresh database is created next to the given one and dropped after.
With CI=true an unreachable PostgreSQL fails the run instead of skipping.
"""

import contextvars
import email
import email.policy
import os
import re
import uuid
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import cache, db, limiter

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _normalise(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_throwaway_postgres() -> tuple[str, callable]:
    """Create an empty database on the server of PORTAL_TEST_DATABASE_URL; return (url, drop)."""
    base = make_url(_normalise(TEST_DATABASE_URL))
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "unreachable"
        message = f"PostgreSQL at {base.render_as_string(hide_password=True)} unreachable: {error}"
        if IN_CI:
            pytest.exit(message, returncode=3)
        raise RuntimeError(message) from error

    def drop():
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` (row locks, concurrency) run only in the PostgreSQL pass."""
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set PORTAL_TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        url, drop = create_throwaway_postgres()
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


# PORTAL_TEST_STORAGE=s3: every test's files go to a bucket of a real S3 endpoint (moto's
# server, tests/s3_server.py) instead of the disk; CI runs the file tests both ways.
TEST_STORAGE = os.environ.get("PORTAL_TEST_STORAGE", "local")


@pytest.fixture(scope="session")
def s3_server():
    from tests.s3_server import start_or_skip

    server = start_or_skip()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def storage_config(request):
    if TEST_STORAGE != "s3":
        return {}
    from tests.s3_server import s3_config

    server = request.getfixturevalue("s3_server")
    return s3_config(server, server.create_bucket("portal-test"))


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, storage_config):
    outbox = tmp_path_factory.mktemp("outbox")
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_OUTBOX": str(outbox),
            "SMTP_HOST": None,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "REPORT_DIR": str(tmp_path_factory.mktemp("reports")),
            "PORTAL_BASE_URL": "http://portal.test",
            "SERVER_NAME": None,
            "OFFER_CACHE_SECONDS": 0,  # tests publish offers and expect them at once
            "CONSENT_CACHE_SECONDS": 0,  # and consent texts
            "CATALOG_CACHE_SECONDS": 0,  # tests change the catalogue and search at once
            **storage_config,
        }
    )
    application.test_client_class = PortalClient
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(app):
    """Every test starts with empty tables, an empty outbox and fresh rate limits."""
    ctx = app.app_context()
    ctx.push()
    from portal.billing.tax import ensure_statutory_rates

    ensure_statutory_rates()  # the dated VAT rates a migrated database starts with
    from portal.privacy.consents import ensure_initial_versions

    ensure_initial_versions()  # and the consent texts and policy of migration 0019
    db.session.commit()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    for message in Path(app.config["MAIL_OUTBOX"]).glob("*.eml"):
        message.unlink()
    limiter.reset()
    cache.clear()  # kept user snapshots (portal/accounts/session_cache.py) name deleted rows
    ctx.pop()


class PortalClient(FlaskClient):
    """A test client that behaves like a browser talking to a separate server process.

    Each request runs in a fresh context, so nothing (flask.g, the database session) leaks
    from the test's own app context into the request; and forms get a CSRF token.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test then reads what the request wrote
        return response

    def csrf_token(self) -> str:
        page = self.get("/__no_such_page__").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, *args, csrf=True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture
def tax_day(monkeypatch):
    """Pin the portal's "today" (the tax date of carts, orders and shipments); a setter."""
    from portal import clock

    def set_day(day):
        monkeypatch.setattr(clock, "local_today", lambda: day)
        return day

    return set_day


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app):
    """The messages 'sent' so far (the .eml files of the development outbox), oldest first."""

    class Outbox:
        def messages(self):
            files = sorted(
                Path(app.config["MAIL_OUTBOX"]).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns
            )
            return [
                email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files
            ]

        def to(self, address):
            return [m for m in self.messages() if address in m["To"]]

        @staticmethod
        def text(message):
            return message.get_body(preferencelist=("plain",)).get_content()

        def links(self, message):
            return re.findall(r"http://portal\.test(/\S+)", self.text(message))

    return Outbox()


from tests.factories import *  # noqa: E402,F401,F403 - fixtures shared by all tests
