"""The signed-in user kept in the shared cache between requests (portal/accounts/session_cache.py):
whatever changes who the user is or what they may do takes effect on their very next request,
whichever way it was written (a form, a service through the ORM, a bulk or textual statement).

The cache is on here as with Redis in production (one process: the per-process cache hears
every change, as Redis does for every worker)."""

import re

import pytest
from flask import url_for
from sqlalchemy import text, update

from portal.accounts.models import User
from portal.extensions import cache, db
from portal.notifications.services import mark_read, notify
from portal.organisations.models import ALL_POWERS, Power
from tests.factories import login, make_user


@pytest.fixture(autouse=True)
def user_cache(app):
    cache.clear()  # the tables are emptied between tests around the ORM: so are the snapshots
    app.config["USER_CACHE_SECONDS"] = 60
    yield
    app.config["USER_CACHE_SECONDS"] = 0
    cache.clear()


def path(app, endpoint, **values):
    with app.test_request_context():
        return url_for(endpoint, **values)


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    assert client.get("/orders").status_code == 200
    return client


def bell(page: str) -> str | None:
    match = re.search(r'data-testid="unread-count">(\d+)<', page)
    return match.group(1) if match else None


def test_the_second_page_is_served_from_the_kept_copy(app, pharmacy):
    """Proof the cache is in use (else the tests below would pass without it): a change made
    around the portal (psql) is not seen until the copy expires."""
    user = make_user(pharmacy, login="kept")
    client = signed_in(app, user)
    with db.engine.begin() as connection:  # not through the portal's session
        connection.execute(
            text("UPDATE users SET full_name = 'Changed Outside' WHERE id = :u"), {"u": user.id}
        )
    assert "Changed Outside" not in client.get("/orders").get_data(as_text=True)
    cache.clear()
    assert "Changed Outside" in client.get("/orders").get_data(as_text=True)


def test_a_colleague_blocked_by_the_organisation_admin_loses_access_at_once(app, pharmacy):
    admin = make_user(pharmacy, login="org.admin")
    colleague = make_user(pharmacy, login="colleague")
    victim = signed_in(app, colleague)
    boss = signed_in(app, admin)
    membership_id = colleague.memberships[0].id
    answer = boss.post(path(app, "organisations.toggle_block", membership_id=membership_id))
    assert answer.status_code == 302
    assert victim.get("/orders").status_code == 403
    boss.post(path(app, "organisations.toggle_block", membership_id=membership_id))
    assert victim.get("/orders").status_code == 200


def test_a_power_removed_by_a_service_takes_effect_on_the_next_request(app, pharmacy):
    user = make_user(pharmacy, login="powers")
    client = signed_in(app, user)
    membership = db.session.get(User, user.id).memberships[0]
    membership.powers = {Power.VIEW_PRICES}
    db.session.commit()
    assert client.get("/orders").status_code == 403
    assert 'href="/orders"' not in client.get("/catalog/").get_data(as_text=True)


def test_deactivated_staff_are_signed_out_on_their_next_request(app):
    admin = make_user(login="the.admin", staff_role="admin")
    manager = make_user(login="the.manager", staff_role="manager")
    manager_client = app.test_client()
    login(manager_client, manager)
    staff_page = manager_client.get("/").headers["Location"]  # the back office's start page
    assert manager_client.get(staff_page).status_code == 200
    admin_client = app.test_client()
    login(admin_client, admin)
    admin_client.post(path(app, "backoffice.toggle_staff", user_id=manager.id))
    answer = manager_client.get(staff_page)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_signing_out_everywhere_ends_the_other_sessions(app, pharmacy):
    user = make_user(pharmacy, login="everywhere")
    phone, laptop = signed_in(app, user), signed_in(app, user)
    assert laptop.post(path(app, "accounts.logout_everywhere")).status_code == 302
    answer = phone.get("/orders")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_an_organisation_switched_off_takes_its_members_access_at_once(app, pharmacy):
    client = signed_in(app, make_user(pharmacy, login="switched.off"))
    pharmacy = db.session.merge(pharmacy)
    pharmacy.is_active = False
    db.session.commit()
    assert client.get("/orders").status_code == 403


def test_bulk_and_textual_statements_take_effect_on_the_next_request(app, pharmacy):
    first = make_user(pharmacy, login="bulk.one")
    second = make_user(pharmacy, login="bulk.two")
    one, two = signed_in(app, first), signed_in(app, second)
    db.session.execute(update(User).where(User.id == first.id).values(is_active_flag=False))
    db.session.commit()
    answer = one.get("/orders")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert two.get("/orders").status_code == 200  # only the named user was forgotten: still in
    db.session.execute(
        text("UPDATE memberships SET is_blocked = :yes WHERE user_id = :u"),
        {"yes": True, "u": second.id},
    )
    db.session.commit()
    assert two.get("/orders").status_code == 403


def test_the_bell_follows_new_and_read_notices(app, pharmacy):
    user = make_user(pharmacy, ALL_POWERS, login="bell")
    client = signed_in(app, user)
    assert bell(client.get("/orders").get_data(as_text=True)) is None
    notify(db.session.get(User, user.id), "Заказ отгружен")
    notify(db.session.get(User, user.id), "Счёт выставлен")
    db.session.commit()
    assert bell(client.get("/orders").get_data(as_text=True)) == "2"
    mark_read(db.session.get(User, user.id))  # one bulk UPDATE naming the user
    db.session.commit()
    assert bell(client.get("/orders").get_data(as_text=True)) is None
