"""A refused form answers 422 and writes nothing: the request's changes are rolled back, also
what a service flushed before it refused (one transaction rule, portal/transactions.py)."""

from sqlalchemy import func, select

from portal.accounts.models import OfferVersion, User
from portal.audit import AuditEvent
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.tickets.models import Ticket, TicketEvent
from tests.factories import login, make_user, valid_inn


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


NEW_CLIENT = {
    "legal_name": 'АО "ТехГаз"',
    "kind": "gas",
    "legal_address": "Нижний Новгород",
    "delivery_address": "Нижний Новгород",
    "region": "Нижегородская область",
    "user_full_name": "Соколов Д. Н.",
    "user_email": "sokolov@tehgaz.example.org",
}


def test_a_new_client_with_a_taken_login_leaves_no_organisation_behind(app, manager):
    make_user(login="taken")
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    organisations, users, events = count(Organisation), count(User), count(AuditEvent)
    # The organisation is flushed before its first user is refused: both go.
    response = staff.post(
        "/backoffice/organisations/new",
        data={**NEW_CLIENT, "inn": valid_inn(4242), "user_login": "taken"},
    )
    assert response.status_code == 422
    assert "Логин taken уже занят" in response.get_data(as_text=True)
    assert count(Organisation) == organisations
    assert count(User) == users
    assert count(AuditEvent) == events


def test_a_staff_account_with_a_taken_login_is_refused_with_422(app, admin):
    staff = app.test_client()
    login(staff, admin)
    users = count(User)
    response = staff.post(
        "/backoffice/staff",
        data={
            "full_name": "Новый Менеджер",
            "email": "new.manager@example.org",
            "login": admin.login,
            "role": "manager",
        },
    )
    assert response.status_code == 422
    assert count(User) == users


def test_an_offer_version_published_twice_is_refused_and_not_stored(app, admin):
    staff = app.test_client()
    login(staff, admin)
    data = {"version": "2099-1", "title": "Оферта", "text": "Текст оферты."}
    assert staff.post("/backoffice/offers", data=data).status_code == 302
    offers = count(OfferVersion)
    again = staff.post("/backoffice/offers", data={**data, "title": "Другая"})
    assert again.status_code == 422
    assert count(OfferVersion) == offers


def test_a_profile_with_a_bad_phone_changes_nothing(client, buyer):
    login(client, buyer)
    name = buyer.full_name
    response = client.post(
        "/profile",
        data={"full_name": "Другое Имя", "email": buyer.email, "phone": "12", "language": "ru"},
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, buyer.id).full_name == name


def test_a_message_without_text_or_file_writes_nothing(client, buyer):
    login(client, buyer)
    created = client.post(
        "/tickets/new?type=question",
        data={"title": "Когда поставка?", "body": "Подскажите срок."},
        content_type="multipart/form-data",
    )
    assert created.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    events = count(TicketEvent)
    empty = client.post(
        f"/tickets/{ticket.id}", data={"body": ""}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422
    assert count(TicketEvent) == events


def test_a_refused_sign_in_keeps_only_the_security_facts(client, buyer):
    token = db.session.scalar(select(User.session_token).where(User.id == buyer.id))
    response = client.post("/login", data={"login": "buyer", "password": "wrong-password-1"})
    assert response.status_code == 422
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("auth.login_failed") == 1
    assert db.session.scalar(select(User.session_token).where(User.id == buyer.id)) == token
