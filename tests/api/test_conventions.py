"""Conventions of /api: Bearer keys only, no CSRF, problem+json for every error, rate limits."""

import json

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.catalog.builders import make_item
from tests.factories import login, make_organisation, make_user


def test_a_signed_in_browser_without_a_key_gets_401_not_its_session(app):
    organisation = make_organisation()
    user = make_user(organisation, ALL_POWERS)
    browser = app.test_client()
    login(browser, user)
    assert browser.get("/organisation/").status_code == 200  # the session works on pages
    response = browser.get("/api/v1/me")
    assert_problem(response, 401)
    assert "Set-Cookie" not in response.headers  # the API neither reads nor renews a session
    remembered = app.test_client()
    remembered.post(
        "/login", data={"login": user.login, "password": "Correct-horse-42", "remember": "y"}
    )
    assert_problem(remembered.get("/api/v1/catalog/items"), 401)


def test_a_key_needs_no_csrf_token_even_beside_a_session_cookie(app):
    organisation = make_organisation()
    user = make_user(organisation, ALL_POWERS)
    _key, token = issue_key(organisation, user=user)
    item = make_item()
    browser = app.test_client()
    login(browser, user)
    response = browser.post(
        "/api/v1/catalog/items/lookup",
        json={"codes": [item.sku]},
        headers=bearer(token),
        csrf=False,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [i["sku"] for i in response.get_json()["items"]] == [item.sku]
    # The page's forms still need it.
    assert browser.post("/organisation/api-keys", data={"name": "x"}, csrf=False).status_code in (
        400,
        422,
    )


def test_missing_power_is_403_with_a_problem(api_client):
    _key, token = issue_key(powers=(Power.ORDER,))
    body = assert_problem(api_client.get("/api/v1/catalog/items", headers=bearer(token)), 403)
    assert "view_prices" in body["detail"]
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "api_key.refused")
        )
        == 1
    )


def test_unknown_paths_and_methods_answer_problems_never_pages(api_client):
    _key, token = issue_key()
    assert_problem(api_client.get("/api/v1/nothing-here", headers=bearer(token)), 404)
    assert_problem(api_client.get("/api/v2/me"), 404)
    response = api_client.delete("/api/v1/me", headers=bearer(token))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_huge_body_is_413(app, api_client):
    _key, token = issue_key()
    big = json.dumps({"codes": ["x" * 30] * 40000})
    assert len(big) > app.config["API_MAX_BODY_BYTES"]
    response = api_client.post(
        "/api/v1/catalog/items/lookup",
        data=big,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_a_body_that_is_not_json_is_415_and_malformed_json_is_400(api_client):
    _key, token = issue_key()
    response = api_client.post(
        "/api/v1/catalog/items/lookup", data={"codes": "A1"}, headers=bearer(token)
    )
    assert_problem(response, 415)
    response = api_client.post(
        "/api/v1/catalog/items/lookup",
        data='{"codes": [',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_unknown_fields_and_wrong_types_are_422_per_field(api_client):
    _key, token = issue_key()
    body = assert_problem(
        api_client.post(
            "/api/v1/catalog/items/lookup",
            json={"codes": ["A1", 5], "extra": True},
            headers=bearer(token),
            csrf=False,
        ),
        422,
    )
    fields = {(e["location"], e["field"]) for e in body["errors"]}
    assert ("json", "extra") in fields and ("json", "codes.1") in fields
    body = assert_problem(
        api_client.get("/api/v1/catalog/items?limit=501&colour=red", headers=bearer(token)), 422
    )
    fields = {(e["location"], e["field"]) for e in body["errors"]}
    assert fields == {("query", "limit"), ("query", "colour")}
    body = assert_problem(
        api_client.post(
            "/api/v1/catalog/items/lookup",
            json={"codes": ["x"] * 501},
            headers=bearer(token),
            csrf=False,
        ),
        422,
    )
    assert body["errors"][0]["field"] == "codes"


def test_rate_limits_per_key_with_headers_and_a_429_problem(app, api_client, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    _key, token = issue_key()
    _other, other_token = issue_key()
    for remaining in (2, 1, 0):
        response = api_client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
    refused = api_client.get("/api/v1/me", headers=bearer(token))
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 per 1 minute" in body["detail"]
    assert api_client.get("/api/v1/me", headers=bearer(other_token)).status_code == 200


def test_an_unexpected_error_is_a_500_problem(app, api_client, monkeypatch):
    _key, token = issue_key()

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setattr("portal.api.me.build_me", broken)
    body = assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 500)
    assert "boom" not in json.dumps(body)


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_reference_and_the_document_are_public_and_local(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "cdn" not in text.lower() and "unpkg" not in text.lower()
    if path.endswith(".json"):
        spec = response.get_json()
        assert spec["openapi"] == "3.1.0"
        assert {"/api/v1/me", "/api/v1/catalog/items", "/api/v1/catalog/items/{sku}"} <= set(
            spec["paths"]
        )
    else:
        assert "/api/v1/catalog/items/{sku}" in text and 'id="problem-validation"' in text
        assert '<script src="http' not in text
        assert api_client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_a_nul_character_anywhere_is_refused_not_a_500(api_client):
    _key, token = issue_key()
    body = assert_problem(
        api_client.post(
            "/api/v1/catalog/items/lookup",
            json={"codes": ["A\u0000"]},
            headers=bearer(token),
            csrf=False,
        ),
        422,
    )
    assert body["errors"][0]["field"] == "codes"
    assert_problem(api_client.get("/api/v1/catalog/items/A%00", headers=bearer(token)), 404)
    assert_problem(api_client.get("/api/v1/catalog/items?cursor=%00", headers=bearer(token)), 400)
