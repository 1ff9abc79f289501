"""The side menu is built once per kind of user and reused: each user still sees exactly the
entries of their own powers, organisation kind and language, and a change of powers shows at
the next page."""

import re

from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Power
from tests.factories import login, make_user

ORDERS = 'href="/orders"'


def _menu_links(page: str) -> list[str]:
    nav = page.split('id="mainnav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', nav)


def test_users_of_one_organisation_see_the_menus_of_their_own_powers(app, pharmacy):
    full, limited = app.test_client(), app.test_client()
    login(full, make_user(pharmacy, ALL_POWERS, login="menu.full"))
    login(limited, make_user(pharmacy, {Power.VIEW_PRICES}, login="menu.limited"))
    for _ in range(2):  # the second page of each is served from the kept menus
        full_links = _menu_links(full.get("/").get_data(as_text=True))
        limited_links = _menu_links(limited.get("/").get_data(as_text=True))
        assert "/orders" in full_links and "/cart" in full_links
        assert "/orders" not in limited_links and "/cart" not in limited_links
        assert "/catalog/" in limited_links


def test_a_power_granted_shows_in_the_menu_at_the_next_page(app, pharmacy):
    client = app.test_client()
    user = make_user(pharmacy, {Power.VIEW_PRICES}, login="menu.grant")
    login(client, user)
    assert "/orders" not in _menu_links(client.get("/").get_data(as_text=True))
    membership = user.memberships[0]
    membership.powers = {Power.VIEW_PRICES, Power.ORDER}
    db.session.commit()
    assert "/orders" in _menu_links(client.get("/").get_data(as_text=True))


def test_the_gas_customer_and_the_pharmacy_get_their_own_menus(app, pharmacy, gas_org):
    chemist, gas = app.test_client(), app.test_client()
    login(chemist, make_user(pharmacy, ALL_POWERS, login="menu.chemist"))
    login(gas, make_user(gas_org, ALL_POWERS, login="menu.gas"))
    chemist_links = _menu_links(chemist.get("/").get_data(as_text=True))
    gas_links = _menu_links(gas.get("/").get_data(as_text=True))
    assert "/catalog/" in chemist_links and "/catalog/" not in gas_links
    assert any(link.startswith("/metering") for link in gas_links)


def test_the_menu_follows_the_language(app, pharmacy):
    client = app.test_client()
    user = make_user(pharmacy, ALL_POWERS, login="menu.lang")
    login(client, user)
    russian = client.get("/").get_data(as_text=True)
    assert ">Каталог<" in russian
    user.language = "en"
    db.session.commit()
    english = client.get("/").get_data(as_text=True)
    assert ">Catalogue<" in english and ">Каталог<" not in english
