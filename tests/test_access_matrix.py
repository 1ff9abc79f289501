"""Tenant isolation and permissions for every route that takes an object id.

For each such route: a user of another organisation gets 404, a user of the same organisation
without the needed power gets 403, an anonymous visitor is sent to the login page; for staff
routes a customer gets 403. Never a 200, never a 500. A new object route without a case fails.
"""

import importlib
import pkgutil
from pathlib import Path

import pytest

import tests
from portal.organisations.models import ALL_POWERS
from tests.access import TOKEN_ROUTES
from tests.factories import login, make_organisation, make_user


def collect_cases():
    cases = {}
    root = Path(tests.__file__).parent
    for module in pkgutil.walk_packages([str(root)], prefix="tests."):
        if module.name.endswith(".access_cases"):
            cases.update(importlib.import_module(module.name).CASES)
    return cases


CASES = collect_cases()


def object_routes(app):
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.arguments
        and rule.endpoint not in TOKEN_ROUTES
        and not rule.endpoint.endswith("static")
    }


def test_every_object_route_has_an_access_case(app):
    missing = sorted(set(object_routes(app)) - set(CASES))
    assert missing == [], f"add these to tests/<domain>/access_cases.py: {missing}"


def request(client, rule, kwargs):
    url = rule.build(kwargs, append_unknown=False)[1]
    method = "GET" if "GET" in rule.methods else "POST"
    return client.get(url) if method == "GET" else client.post(url, data={})


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_object_route_access(app, endpoint):
    rule = object_routes(app).get(endpoint)
    assert rule is not None, f"{endpoint} is listed in an access_cases.py but has no route"
    case = CASES[endpoint]
    owner = make_organisation(case.kind)
    kwargs = case.build(owner)

    anonymous = request(app.test_client(), rule, kwargs)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    outsider_org = make_organisation(case.kind)
    outsider = app.test_client()
    login(outsider, make_user(outsider_org, ALL_POWERS))
    expected = 403 if case.staff else 404
    assert request(outsider, rule, kwargs).status_code == expected

    if case.staff:
        insider = app.test_client()
        login(insider, make_user(owner, ALL_POWERS))
        assert request(insider, rule, kwargs).status_code == 403
    elif case.power is not None:
        insider = app.test_client()
        login(insider, make_user(owner, ALL_POWERS - {case.power}))
        assert request(insider, rule, kwargs).status_code == 403
