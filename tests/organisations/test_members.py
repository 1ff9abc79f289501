from sqlalchemy import select

from portal.accounts.models import User
from portal.audit import AuditEvent
from portal.extensions import db
from portal.organisations.models import Membership, Power
from tests.factories import PASSWORD, login, make_organisation, make_user


def membership_of(user):
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def test_organisation_admin_adds_a_colleague_with_limited_powers(app, client, buyer, outbox):
    login(client, buyer)
    response = client.post(
        "/organisation/users/new",
        data={
            "full_name": "Петров Игорь",
            "email": "petrov@example.org",
            "phone": "+7 916 123-45-67",
            "powers": [Power.VIEW_PRICES.value, Power.ORDER.value],
        },
    )
    assert response.status_code == 302
    colleague = db.session.scalar(select(User).where(User.login == "petrov"))
    assert colleague.phone == "+79161234567"
    assert membership_of(colleague) is None  # a member once they accept
    # A new colleague accepts by setting the password through the e-mailed link.
    (mail,) = outbox.to("petrov@example.org")
    (link,) = outbox.links(mail)
    app.test_client().post(link, data={"password": PASSWORD, "confirm": PASSWORD})
    membership = membership_of(colleague)
    assert membership.organisation_id == buyer.memberships[0].organisation_id
    assert membership.powers == {Power.VIEW_PRICES, Power.ORDER}


def test_duplicate_colleague_and_bad_email_are_refused(client, buyer, pharmacy):
    make_user(pharmacy, {Power.VIEW_PRICES}, login="twin", email="twin@example.org")
    login(client, buyer)
    again = client.post(
        "/organisation/users/new",
        data={"full_name": "Двойник", "email": "twin@example.org", "powers": ["view_prices"]},
    )
    assert "уже" in again.get_data(as_text=True)
    bad = client.post(
        "/organisation/users/new",
        data={"full_name": "Кто-то", "email": "not-an-email", "powers": ["view_prices"]},
    )
    assert "invalid-feedback" in bad.get_data(as_text=True)
    assert len(db.session.scalars(select(Membership)).all()) == 2


def test_editing_powers_is_audited_and_takes_effect(app, client, buyer, pharmacy):
    colleague = make_user(pharmacy, {Power.VIEW_PRICES, Power.MANAGE_USERS})
    login(client, buyer)
    client.post(
        f"/organisation/users/{membership_of(colleague).id}",
        data={"powers": [Power.VIEW_PRICES.value]},
    )
    assert membership_of(colleague).powers == {Power.VIEW_PRICES}
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "membership.powers_changed")
    )
    assert event.details["after"] == ["view_prices"]
    other = app.test_client()
    login(other, colleague)
    assert other.get("/organisation/users").status_code == 403


def test_the_last_user_manager_cannot_remove_their_own_power(client, buyer):
    login(client, buyer)
    response = client.post(
        f"/organisation/users/{membership_of(buyer).id}", data={"powers": [Power.VIEW_PRICES.value]}
    )
    assert "управление пользователями" in response.get_data(as_text=True)
    assert Power.MANAGE_USERS in membership_of(buyer).powers


def test_blocked_colleague_loses_access_at_once(app, client, buyer, pharmacy):
    colleague = make_user(pharmacy, {Power.VIEW_PRICES})
    session = app.test_client()
    login(session, colleague)
    login(client, buyer)
    client.post(f"/organisation/users/{membership_of(colleague).id}/block")
    assert membership_of(colleague).is_blocked
    assert session.get("/organisation/").status_code == 403
    assert "Нет активной организации" in session.get("/").get_data(as_text=True)


def test_foreign_membership_is_not_found(client, buyer, other_pharmacy):
    stranger = make_user(other_pharmacy, {Power.VIEW_PRICES})
    login(client, buyer)
    assert client.get(f"/organisation/users/{membership_of(stranger).id}").status_code == 404
    response = client.post(f"/organisation/users/{membership_of(stranger).id}/block")
    assert response.status_code == 404
    assert not membership_of(stranger).is_blocked


def test_a_buyer_of_two_organisations_switches_between_them(client, pharmacy):
    second = make_organisation("gas", name='АО "Второй завод"')
    person = make_user(pharmacy, {Power.VIEW_PRICES}, login="chain")
    db.session.add(Membership(user_id=person.id, organisation_id=second.id, powers_text="order"))
    db.session.commit()
    login(client, person)
    assert "Аптека Тест" in client.get("/organisation/").get_data(as_text=True)
    client.post("/organisation/switch", data={"organisation_id": second.id})
    assert "Второй завод" in client.get("/organisation/").get_data(as_text=True)
    foreign = make_organisation("pharmacy")
    assert (
        client.post("/organisation/switch", data={"organisation_id": foreign.id}).status_code == 404
    )


def test_staff_have_no_customer_pages(client, manager):
    login(client, manager)
    assert client.get("/organisation/").status_code == 403
    assert client.get("/").headers["Location"].endswith("/backoffice/")


def test_manager_issues_an_access_code_for_a_forgotten_password(app, client, manager, buyer):
    membership = membership_of(buyer)
    membership.organisation.manager_id = manager.id
    db.session.commit()
    login(client, manager)
    page = client.post(f"/backoffice/members/{membership.id}/access-code").get_data(as_text=True)
    code = page.split('data-testid="access-code">')[1].split("<")[0]
    assert (
        app.test_client().post("/login", data={"login": "buyer", "password": PASSWORD}).status_code
        == 422
    )  # the old password no longer works
    customer = app.test_client()
    login(customer, "buyer", code)
    assert customer.get("/").headers["Location"].startswith("/password/change")


def test_a_manager_cannot_reset_users_of_another_managers_client(client, manager, buyer):
    other_manager = make_user(login="manager2", staff_role="manager")
    membership = membership_of(buyer)
    membership.organisation.manager_id = other_manager.id
    db.session.commit()
    login(client, manager)
    assert client.post(f"/backoffice/members/{membership.id}/access-code").status_code == 403
