from sqlalchemy import func, select

from portal.accounts.models import LoginAttempt, User
from portal.audit import AuditEvent
from portal.extensions import db
from tests.factories import PASSWORD, login, make_user


def test_login_page_is_russian_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Войти" in page
    assert 'lang="ru"' in page


def test_buyer_logs_in_with_login_or_email(client, buyer):
    assert client.post("/login", data={"login": "buyer", "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200
    other = client.application.test_client()
    response = other.post("/login", data={"login": "BUYER@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_and_unknown_login_get_the_same_message(client, buyer):
    wrong = client.post("/login", data={"login": "buyer", "password": "nope-nope-1"})
    unknown = client.post("/login", data={"login": "nobody", "password": "nope-nope-1"})
    assert wrong.status_code == unknown.status_code == 422
    assert "Неверный логин или пароль" in wrong.get_data(as_text=True)
    assert "Неверный логин или пароль" in unknown.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(client, buyer):
    for _ in range(5):
        client.post("/login", data={"login": "buyer", "password": "wrong-password-1"})
    response = client.post("/login", data={"login": "buyer", "password": PASSWORD})
    assert response.status_code == 422
    assert "Слишком много неудачных попыток" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in
    failures = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.login_key == "buyer", LoginAttempt.succeeded.is_(False)
        )
    )
    assert failures == 5
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"auth.login_failed", "auth.account_locked", "auth.login_refused_locked"} <= actions


def test_another_accounts_failures_do_not_lock_mine(client, buyer, pharmacy):
    make_user(pharmacy, login="colleague")
    for _ in range(6):
        client.post("/login", data={"login": "colleague", "password": "wrong-password-1"})
    assert login(client, buyer).headers["Location"] == "/"  # signed in, not locked
    assert client.get("/").status_code == 200


def test_session_cookie_flags_and_fresh_session_on_login(client, buyer):
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    response = login(client, buyer)
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as session:
        assert "planted" not in session


def test_remember_me_sets_a_remember_cookie(client, buyer):
    response = client.post("/login", data={"login": "buyer", "password": PASSWORD, "remember": "y"})
    assert any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))


def test_login_refuses_open_redirect(client, buyer):
    response = client.post(
        "/login?next=//evil.example/phish", data={"login": "buyer", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    response = client.application.test_client().post(
        "/login?next=/organisation/", data={"login": "buyer", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/organisation/"


def test_logout_needs_post_with_csrf(client, buyer):
    login(client, buyer)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_logout_everywhere_ends_other_sessions(app, buyer):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, buyer)
    login(laptop, buyer)
    laptop.post("/logout-everywhere")
    assert phone.get("/").status_code == 302
    assert phone.get("/organisation/").status_code == 302


def test_blocked_user_cannot_log_in(client, buyer):
    buyer.is_active_flag = False
    db.session.commit()
    response = client.post("/login", data={"login": "buyer", "password": PASSWORD})
    assert "Неверный логин или пароль" in response.get_data(as_text=True)


def test_password_is_stored_with_argon2(buyer):
    stored = db.session.get(User, buyer.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def _cookies(client):
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def test_logout_ends_a_remembered_sign_in_and_every_copy_of_its_cookies(app, client, buyer):
    client.post("/login", data={"login": "buyer", "password": PASSWORD, "remember": "y"})
    copied = _cookies(client)
    assert {"session", "remember_token"} <= set(copied)
    response = client.post("/logout")
    assert any(
        h.startswith("remember_token=;") and "Expires=Thu, 01 Jan 1970" in h
        for h in response.headers.getlist("Set-Cookie")
    )
    assert client.get("/").status_code == 302  # the same browser: anonymous
    assert "remember_token" not in _cookies(client)
    thief = app.test_client()
    for name, value in copied.items():
        thief.set_cookie(name, value)
    assert thief.get("/").status_code == 302
    assert thief.get("/organisation/").status_code == 302
    # Only the remember-me cookie, without the session: refused too.
    remembered = app.test_client()
    remembered.set_cookie("remember_token", copied["remember_token"])
    assert remembered.get("/").status_code == 302
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "auth.logout"))


def test_unknown_login_costs_an_argon2_verification_like_a_known_one(client, buyer, monkeypatch):
    from argon2 import PasswordHasher, extract_parameters

    from portal.accounts.models import password_hasher

    verified = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verified.append(hash)
        return real_verify(self, hash, password)  # the real, memory-hard computation

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    for name in ("nobody-at-all", "nobody@example.org", "buyer"):
        verified.clear()
        response = client.post("/login", data={"login": name, "password": "wrong-password-1"})
        assert "Неверный логин или пароль" in response.get_data(as_text=True)
        assert len(verified) == 1, name
        # The dummy hash costs what a real one does: same Argon2 type, memory, time, lanes.
        assert extract_parameters(verified[0]) == password_hasher._parameters
    # A blocked account is not a shortcut either.
    buyer.is_active_flag = False
    db.session.commit()
    verified.clear()
    client.post("/login", data={"login": "buyer", "password": PASSWORD})
    assert len(verified) == 1


def test_lock_counts_per_account_whatever_identifier_was_typed(app, client, buyer):
    for _ in range(5):
        client.post("/login", data={"login": "buyer", "password": "wrong-password-1"})
    # The right password, typed with the e-mail in another case: still paused.
    by_email = client.post("/login", data={"login": "Buyer@Example.ORG", "password": PASSWORD})
    assert "Слишком много неудачных попыток" in by_email.get_data(as_text=True)
    assert client.get("/").status_code == 302
    by_login_case = client.post("/login", data={"login": "BUYER", "password": PASSWORD})
    assert "Слишком много неудачных попыток" in by_login_case.get_data(as_text=True)


def test_guesses_by_email_count_against_the_same_account(app, buyer):
    guesser = app.test_client()
    for n in range(3):
        guesser.post("/login", data={"login": "buyer@example.org", "password": f"guess-{n}-aa"})
    for n in range(2):
        guesser.post("/login", data={"login": "BUYER", "password": f"guess-{n}-bb"})
    locked = app.test_client().post("/login", data={"login": "buyer", "password": PASSWORD})
    assert "Слишком много неудачных попыток" in locked.get_data(as_text=True)
    failures = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.user_id == buyer.id, LoginAttempt.succeeded.is_(False)
        )
    )
    assert failures == 5
