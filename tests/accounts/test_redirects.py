"""Open redirects: every redirect target taken from the request goes through one check.

A browser drops tab, CR and LF inside a URL and reads a backslash as a slash, so
"/\t/evil.example" becomes "//evil.example" — another site. Each payload below must land on
the page's own fallback, never off the site and never as a 500.
"""

import pytest

from portal.accounts.models import OfferVersion
from portal.extensions import db
from portal.security import is_safe_redirect_target, safe_next_url
from tests.catalog.builders import make_item
from tests.factories import PASSWORD, login, make_organisation, make_user

HOSTILE = [
    "/%09/evil.example/phish",
    "/\t/evil.example/phish",
    "/%0a/evil.example",
    "/%0d/evil.example",
    "/\r\n/evil.example",
    "/%0D%0ASet-Cookie:%20planted=1",
    "/\r\nSet-Cookie: planted=1",
    "//evil.example/phish",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "/%2F%2Fevil.example",
    "/%2fevil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    " /evil.example",
    "/\u3000/evil.example",
    "/\u202e/lpt.exe",
    "/%00/evil.example",
    "/" + "a" * 3000,
]

# Each entry point is tried with these (signing in costs an Argon2 verification per try);
# the URL check itself is tried with every payload above.
AT_EVERY_ENTRY = [
    "/%09/evil.example/phish",
    "/\t/evil.example/phish",
    "/%0D%0ASet-Cookie:%20planted=1",
    "/\r\nSet-Cookie: planted=1",
    "//evil.example/phish",
    "/\\evil.example",
    "/%2F%2Fevil.example",
    "https://evil.example/",
]

SAFE = ["/", "/organisation/", "/catalog/?q=%D0%BD%D1%83%D1%80%D0%BE%D1%84%D0%B5%D0%BD+200&page=2"]


@pytest.mark.parametrize("payload", HOSTILE)
def test_the_one_url_check_refuses_hostile_targets(payload):
    assert not is_safe_redirect_target(payload)
    assert safe_next_url(payload, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", SAFE)
def test_the_one_url_check_keeps_same_site_paths(target):
    assert safe_next_url(target, "/fallback") == target


def assert_stays(response, fallback, payload):
    assert response.status_code in (302, 303), (payload, response.status_code)
    assert response.headers["Location"] == fallback, (payload, response.headers["Location"])


def test_sign_in_refuses_every_hostile_next(app):
    make_user(login="victim")
    for payload in AT_EVERY_ENTRY:
        browser = app.test_client()
        response = browser.post(
            "/login", query_string={"next": payload}, data={"login": "victim", "password": PASSWORD}
        )
        assert_stays(response, "/", payload)


@pytest.fixture
def member(client, pharmacy):
    user = make_user(pharmacy, login="member")
    login(client, user)
    return user


def test_language_switch_refuses_every_hostile_next(client, member):
    for payload in HOSTILE:
        response = client.post("/language/en", data={"next": payload})
        assert_stays(response, "/", payload)


def test_organisation_switcher_refuses_every_hostile_next(client, member, pharmacy):
    for payload in HOSTILE:
        response = client.post(
            "/organisation/switch", data={"organisation_id": pharmacy.id, "next": payload}
        )
        assert_stays(response, "/", payload)


def test_cart_add_refuses_every_hostile_next(client, member):
    item = make_item()
    db.session.commit()
    for payload in HOSTILE:
        response = client.post(
            "/cart/add", data={"item_id": item.id, "quantity": "1", "next": payload}
        )
        assert_stays(response, "/cart", payload)


def test_favourites_refuse_every_hostile_next(client, member):
    item = make_item()
    db.session.commit()
    for payload in HOSTILE:
        response = client.post(f"/catalog/items/{item.id}/favourite", data={"next": payload})
        assert_stays(response, f"/catalog/items/{item.id}", payload)


def test_notices_refuse_every_hostile_next(client, member):
    for payload in HOSTILE:
        response = client.post("/notifications/read", data={"next": payload})
        assert_stays(response, "/notifications/", payload)


def test_password_change_refuses_every_hostile_next(client, member):
    for payload in AT_EVERY_ENTRY[:4]:
        member.must_change_password = True
        db.session.commit()
        response = client.post(
            "/password/change",
            query_string={"next": payload},
            data={"password": "Another-horse-43", "confirm": "Another-horse-43"},
        )
        assert_stays(response, "/", payload)


def test_offer_acceptance_refuses_every_hostile_next(client, member):
    for n, payload in enumerate(HOSTILE):
        db.session.add(OfferVersion(version=f"v{n}", title="Оферта", text="Текст"))
        db.session.commit()
        response = client.post("/offer", query_string={"next": payload}, data={"accept": "y"})
        assert_stays(response, "/", payload)


def test_a_buyer_of_two_organisations_still_returns_to_the_page_they_were_on(client, pharmacy):
    second = make_organisation("pharmacy")
    user = make_user(pharmacy, login="chain")
    make_user(second, login="other")
    from portal.organisations.models import ALL_POWERS, Membership

    membership = Membership(user=user, organisation=second)
    membership.powers = ALL_POWERS
    db.session.add(membership)
    db.session.commit()
    login(client, user)
    response = client.post(
        "/organisation/switch", data={"organisation_id": second.id, "next": "/catalog/?q=x"}
    )
    assert response.headers["Location"] == "/catalog/?q=x"
