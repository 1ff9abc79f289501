from portal.audit import AuditEvent
from portal.extensions import db
from tests.factories import PASSWORD, login

NEW_PASSWORD = "Brand-new-pass-77"


def test_forgot_password_answers_the_same_for_known_and_unknown(client, buyer, outbox):
    known = client.post(
        "/password/forgot", data={"identifier": "buyer@example.org"}, follow_redirects=True
    ).get_data(as_text=True)
    unknown = client.post(
        "/password/forgot", data={"identifier": "ghost@example.org"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Если учётная запись" in known
    assert (
        known.split('role="alert">')[1].split("<")[0]
        == unknown.split('role="alert">')[1].split("<")[0]
    )
    assert len(outbox.messages()) == 1
    assert outbox.messages()[0]["To"] == "buyer@example.org"


def test_reset_link_works_once(client, buyer, outbox):
    client.post("/password/forgot", data={"identifier": "buyer"})
    (link,) = outbox.links(outbox.messages()[0])
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    login(client, "buyer", NEW_PASSWORD)
    reused = client.application.test_client().get(link)
    assert reused.status_code == 400
    assert "уже была использована" in reused.get_data(as_text=True)


def test_expired_and_tampered_links_are_refused(app, client, buyer, outbox):
    client.post("/password/forgot", data={"identifier": "buyer"})
    (link,) = outbox.links(outbox.messages()[0])
    assert client.get(link[:-3] + "xyz").status_code == 400
    app.config["PASSWORD_TOKEN_MAX_AGE"] = -1
    try:
        expired = client.get(link)
    finally:
        app.config["PASSWORD_TOKEN_MAX_AGE"] = 48 * 3600
    assert expired.status_code == 400
    assert "истёк" in expired.get_data(as_text=True)
    assert db.session.get(type(buyer), buyer.id).check_password(PASSWORD)


def test_weak_or_mismatched_new_password_is_refused(client, buyer, outbox):
    client.post("/password/forgot", data={"identifier": "buyer"})
    (link,) = outbox.links(outbox.messages()[0])
    short = client.post(link, data={"password": "abc1", "confirm": "abc1"})
    assert "не менее 10 символов" in short.get_data(as_text=True)
    differ = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "не совпадают" in differ.get_data(as_text=True)
    assert db.session.get(type(buyer), buyer.id).check_password(PASSWORD)


def test_change_password_needs_the_current_one(client, buyer):
    login(client, buyer)
    wrong = client.post(
        "/password/change",
        data={"current": "not-my-password-1", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "Текущий пароль указан неверно" in wrong.get_data(as_text=True)
    ok = client.post(
        "/password/change",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # this session survives
    assert db.session.get(type(buyer), buyer.id).check_password(NEW_PASSWORD)
    assert (
        db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "auth.password_changed"))
        is not None
    )
