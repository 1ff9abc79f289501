"""Malformed query strings never answer 500: every GET page, as every kind of user.

PostgreSQL refuses a NUL character in text and no id column holds 20 digits; each of these
once reached the database from a search box, a staff filter or a page link.
"""

import re
from pathlib import Path

import pytest

import portal
from portal.backoffice.forms import AuditFilterForm
from portal.documents.forms import DocumentFilterForm
from portal.extensions import db
from portal.onboarding.forms import QueueFilterForm
from portal.organisations.models import ALL_POWERS
from portal.security import rule_for
from tests.catalog.builders import make_item
from tests.factories import login, make_organisation, make_user
from tests.test_access_matrix import CASES

PORTAL_SOURCE = Path(portal.__file__).parent


def query_parameter_names() -> set[str]:
    """Every query argument a view reads: request.args.get("x"), int_arg("x"), filter forms."""
    pattern = re.compile(r'(?:args|values)\.get\("(\w+)"|(?:int|text)_arg\("(\w+)"')
    names = {"page", "per_page", "next"}
    for path in PORTAL_SOURCE.rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    for form in (AuditFilterForm, DocumentFilterForm, QueueFilterForm):
        names |= {name for name in dir(form) if not name.startswith("_") and name != "meta"}
    return names - {"csrf_token"}


NAMES = sorted(query_parameter_names())

MALFORMED = {
    "nul": "a\x00b",
    "huge": "9" * 20,
    "negative": "-1",
    "not a number": "x²①٣",
    "overlong": "я" * 250,  # past every field limit (200 characters at most)
}

USERS = ("anonymous", "pharmacy buyer", "gas customer", "manager", "admin")


def _signed_in(app, who):
    client = app.test_client()
    if who == "anonymous":
        return client, None
    if who in ("manager", "admin"):
        user = make_user(staff_role=who)
        organisation = make_organisation()
    else:
        organisation = make_organisation("gas" if who == "gas customer" else "pharmacy")
        user = make_user(organisation, ALL_POWERS)
    db.session.commit()  # a write left open would lock SQLite against the requests
    login(client, user)
    return client, organisation


# Which routes' views run for whom (elsewhere the access gate refuses before any view reads
# the query string; the NUL and page checks run before that gate, for everyone).
RUN_FOR = {
    "anonymous": {"public"},
    "pharmacy buyer": {"public", "authenticated", "customer", "power"},
    "gas customer": {"public", "authenticated", "customer", "power"},
    "manager": {"public", "authenticated", "staff", "curator"},
    "admin": {"public", "authenticated", "staff", "curator"},
}


def _get_urls(app, who, organisation):
    """Every GET route whose view runs for `who`; object routes with an object of theirs."""
    fallback = organisation or make_organisation()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        if rule_for(app.view_functions[rule.endpoint]).kind not in RUN_FOR[who]:
            continue
        if rule.arguments:
            case = CASES.get(rule.endpoint)
            if case is None:
                continue  # signed tokens and language codes: no query string is read
            owner = fallback if fallback.kind == case.kind else make_organisation(case.kind)
            urls.append(rule.build(case.build(owner), append_unknown=False)[1])
        else:
            urls.append(rule.rule)
    db.session.commit()
    return sorted(set(urls))


@pytest.mark.parametrize("who", USERS)
def test_no_malformed_query_string_answers_500(app, who):
    make_item()  # the catalogue is not empty: searches and filters run their queries
    db.session.commit()
    client, organisation = _signed_in(app, who)
    failures = []
    for url in _get_urls(app, who, organisation):
        for label, value in MALFORMED.items():
            response = client.get(url, query_string=dict.fromkeys(NAMES, value))
            if response.status_code >= 500:
                failures.append((url, label, response.status_code))
    assert failures == []


def test_a_nul_in_the_catalogue_search_is_a_clear_400(client, app):
    organisation = make_organisation()
    login(client, make_user(organisation, ALL_POWERS))
    response = client.get("/catalog/", query_string={"q": "аспирин\x00"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_in_a_staff_filter_is_a_clear_400(client):
    login(client, make_user(staff_role="manager"))
    for url in (
        "/backoffice/orders",
        "/backoffice/organisations",
        "/backoffice/onboarding/applications",
    ):
        response = client.get(url, query_string={"q": "\x00", "region": "\x00"})
        assert response.status_code == 400, url
        assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "0", "abc", "10001"])
def test_a_page_number_out_of_range_is_a_clear_400(client, page):
    login(client, make_user(staff_role="admin"))
    response = client.get("/backoffice/audit", query_string={"page": page})
    assert response.status_code == 400
    assert "10000" in response.get_data(as_text=True).replace("\xa0", "").replace(",", "")


def test_the_last_page_number_still_shows_a_page(client):
    login(client, make_user(staff_role="admin"))
    assert client.get("/backoffice/audit", query_string={"page": "10000"}).status_code == 200


def test_a_nul_in_a_form_field_is_a_clear_400(client):
    organisation = make_organisation()
    login(client, make_user(organisation, ALL_POWERS))
    response = client.post("/tickets/new?type=question", data={"title": "a\x00", "body": "b"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
