"""The menu and the gate read one rule: the route's access.power(..., kinds=...).

A gas customer has no catalogue (no menu entry, and /catalog/ does not exist for them); a
pharmacy has no gas readings. Each side also sees its own entry, so the checks cannot pass on
a page without a menu.
"""

import re

from flask import url_for

from portal.organisations.models import ALL_POWERS
from tests.factories import login, make_user


def _menu_links(page: str) -> set[str]:
    return set(re.findall(r'<a class="nav-link[^"]*"[^>]*href="([^"]+)"', page))


def _urls(app, *endpoints):
    with app.test_request_context():
        return [url_for(endpoint) for endpoint in endpoints]


def test_a_gas_customer_has_no_catalogue_in_the_menu_nor_at_its_address(app, gas_org):
    catalogue, readings = _urls(app, "catalog.list_items", "metering.submit_readings")
    client = app.test_client()
    login(client, make_user(gas_org, ALL_POWERS, login="kindsgas"))
    page = client.get("/")
    assert page.status_code == 200
    links = _menu_links(page.get_data(as_text=True))
    assert readings in links
    assert catalogue not in links
    assert client.get("/catalog/").status_code == 404


def test_a_pharmacy_has_no_gas_readings_in_the_menu(app, pharmacy):
    catalogue, readings = _urls(app, "catalog.list_items", "metering.submit_readings")
    client = app.test_client()
    login(client, make_user(pharmacy, ALL_POWERS, login="kindspharmacy"))
    page = client.get("/")
    assert page.status_code == 200
    links = _menu_links(page.get_data(as_text=True))
    assert catalogue in links
    assert readings not in links
