import json
import logging

import pytest

from portal import create_app
from portal.config import ConfigurationError
from portal.extensions import db
from tests.factories import login


def test_security_headers_on_every_response(client):
    for url in ("/login", "/apply", "/no-such-page", "/healthz"):
        headers = client.get(url).headers
        csp = dict(
            part.strip().split(" ", 1)
            for part in headers["Content-Security-Policy"].split(";")
            if part.strip()
        )
        assert csp["script-src"] == "'self'"  # no inline scripts, no other origin
        assert csp["style-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers.get("Strict-Transport-Security") is None  # plain HTTP in tests


def test_hsts_and_secure_cookies_when_served_over_https(app):
    secure = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "PORTAL_HTTPS": True,
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    response = secure.test_client().get("/login", base_url="https://localhost")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]  # the session holding the CSRF token
    assert "Secure" in cookie and "HttpOnly" in cookie
    with secure.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()


def test_csrf_is_refused_on_state_changing_forms(client, buyer):
    assert (
        client.post("/login", data={"login": "buyer", "password": "x"}, csrf=False).status_code
        == 400
    )
    login(client, buyer)
    for url in ("/profile", "/organisation/users/new", "/logout-everywhere"):
        assert client.post(url, data={}, csrf=False).status_code == 400


def test_healthz_reports_the_database_and_the_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["queue"] == "ok"


def test_healthz_reports_an_unreachable_queue_as_degraded(app, tmp_path):
    """The portal works on without the queue (statement requests are refused), so a load
    balancer reading /healthz must not take it out: 200, with the queue named."""
    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["checks"] == {"database": "ok", "queue": "unavailable"}
    with broken.app_context():
        db.engine.dispose()


def test_unreachable_database_gives_a_clear_503(app):
    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x",
        }
    )
    client = broken.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["checks"]["database"] == "unavailable"
    page = client.get("/login")
    assert page.status_code == 200  # the login page itself needs no database
    response = client.post("/login", data={"login": "a", "password": "b"})
    assert response.status_code in (400, 503)  # no CSRF token here; never a 500


def test_json_logs_carry_the_request_id(app, capsys):
    logged = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "x",
            "LOG_FORMAT": "json",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    try:
        response = logged.test_client().get("/healthz", headers={"X-Request-ID": "abc123"})
        assert response.headers["X-Request-ID"] == "abc123"
        lines = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if line.startswith("{")
        ]
        access = [line for line in lines if line["logger"] == "portal.access"]
        assert access and access[-1]["request_id"] == "abc123" and access[-1]["status"] == 200
    finally:
        logging.getLogger().handlers.clear()
        with logged.app_context():
            db.engine.dispose()


def test_access_log_names_the_signed_in_user_even_after_a_commit(app, capsys, pharmacy):
    """The log line takes the user's id from the loaded object, not a reload of the row."""
    from tests.conftest import PortalClient
    from tests.factories import make_user

    user = make_user(pharmacy, login="logged-user")
    db.session.commit()
    logged = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "x",
            "LOG_FORMAT": "json",
            "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    logged.test_client_class = PortalClient
    try:
        client = logged.test_client()
        client.get("/login")
        login(client, user)  # the sign-in view commits (last login time, audit)
        client.get("/profile")
        lines = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if line.startswith("{")
        ]
        access = [line for line in lines if line["logger"] == "portal.access"]
        by_path = {(line["method"], line["path"]): line["user_id"] for line in access}
        assert by_path[("GET", "/login")] is None  # anonymous
        assert by_path[("POST", "/login")] == str(user.id)
        assert by_path[("GET", "/profile")] == str(user.id)
    finally:
        logging.getLogger().handlers.clear()
        with logged.app_context():
            db.engine.dispose()
