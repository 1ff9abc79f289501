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


def test_replaying_an_old_session_cookie_does_not_reset_the_wrong_code_counter(
    app, client, manager, clock
):
    secret = enable_two_factor(client, manager, clock)
    clock.advance(60)
    browser = app.test_client()
    browser.post("/login", data={"login": "manager", "password": PASSWORD})
    fresh_cookie = browser.get_cookie("session").value  # password done, no wrong code yet
    for _ in range(5):
        browser.post("/login/code", data={"code": "000000"})
    # The attacker puts back the cookie from before the five wrong codes...
    browser.set_cookie("session", fresh_cookie)
    for _ in range(3):
        browser.post("/login/code", data={"code": "111111"})
    # ...and even the right code is refused while the code step is paused.
    refused = browser.post("/login/code", data={"code": clock.code(secret)})
    assert refused.headers["Location"] == "/login"
    assert browser.get("/backoffice/").status_code == 302
    db.session.refresh(manager)
    assert manager.totp_failures >= 5
    # After the pause the right code works again, and the counter starts over.
    clock.advance(app.config["LOGIN_LOCK_MINUTES"] * 60 + 1)
    later = app.test_client()
    later.post("/login", data={"login": "manager", "password": PASSWORD})
    assert later.post("/login/code", data={"code": clock.code(secret)}).status_code == 302
    assert later.get("/backoffice/").status_code == 200
    db.session.refresh(manager)
    assert manager.totp_failures == 0


@pytest.mark.postgres
def test_the_same_code_posted_by_six_sessions_at_once_signs_in_exactly_one(
    app, client, manager, clock
):
    import threading

    secret = enable_two_factor(client, manager, clock)
    clock.advance(60)
    browsers = []
    for _ in range(6):
        browser = app.test_client()
        browser.post("/login", data={"login": "manager", "password": PASSWORD})
        browsers.append((browser, browser.csrf_token()))
    code = clock.code(secret)
    barrier = threading.Barrier(len(browsers))
    statuses = []

    def post_code(browser, token):
        barrier.wait()
        response = browser.post("/login/code", data={"code": code, "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post_code, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 6 and 500 not in statuses
    signed_in = [b for b, _token in browsers if b.get("/backoffice/").status_code == 200]
    assert len(signed_in) == 1
    logins = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.login_2fa")
    ).all()
    assert len(logins) == 1
