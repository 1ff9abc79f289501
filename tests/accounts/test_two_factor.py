from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.accounts import two_factor
from portal.audit import AuditEvent
from portal.extensions import db
from tests.factories import PASSWORD, login


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)

    def code(self, secret):
        return pyotp.TOTP(secret).at(self.now)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(two_factor, "utcnow", lambda: clock.now)
    return clock


def enable_two_factor(client, user, clock):
    login(client, user)
    page = client.get("/profile/two-factor").get_data(as_text=True)
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code, made locally
    wrong = client.post("/profile/two-factor", data={"code": "000000"})
    assert "не совпадает" in wrong.get_data(as_text=True)
    client.post("/profile/two-factor", data={"code": clock.code(secret)})
    db.session.refresh(user)
    assert user.totp_enabled
    return secret


def test_staff_sign_in_asks_for_a_code_once_enabled(app, client, manager, clock):
    secret = enable_two_factor(client, manager, clock)
    clock.advance(60)
    browser = app.test_client()
    response = browser.post("/login", data={"login": "manager", "password": PASSWORD})
    assert response.headers["Location"] == "/login/code"
    assert browser.get("/backoffice/").status_code == 302  # not signed in yet
    assert "Неверный" in browser.post("/login/code", data={"code": "123456"}).get_data(as_text=True)
    ok = browser.post("/login/code", data={"code": clock.code(secret)})
    assert ok.status_code == 302
    assert browser.get("/backoffice/").status_code == 200
    # The same code cannot be replayed in another sign-in.
    replay = app.test_client()
    replay.post("/login", data={"login": "manager", "password": PASSWORD})
    replay.post("/login/code", data={"code": clock.code(secret)})
    assert replay.get("/backoffice/").status_code == 302
    clock.advance(30)
    replay.post("/login/code", data={"code": clock.code(secret)})
    assert replay.get("/backoffice/").status_code == 200


def test_five_wrong_codes_send_back_to_the_password(app, client, manager, clock):
    enable_two_factor(client, manager, clock)
    browser = app.test_client()
    browser.post("/login", data={"login": "manager", "password": PASSWORD})
    for _ in range(5):
        browser.post("/login/code", data={"code": "000000"})
    assert browser.get("/login/code").headers["Location"] == "/login"
    failures = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.2fa_failed")
    ).all()
    assert len(failures) >= 5


def test_admin_turns_off_two_factor_for_a_lost_phone(app, client, manager, admin, clock):
    enable_two_factor(client, manager, clock)
    office = app.test_client()
    login(office, admin)
    office.post(f"/backoffice/staff/{manager.id}/reset-two-factor")
    db.session.refresh(manager)
    assert not manager.totp_enabled
    login(app.test_client(), manager)
