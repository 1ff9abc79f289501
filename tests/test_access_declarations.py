"""Every route declares who may use it; object routes are covered by the access matrix."""

from portal.security import rule_for

EXEMPT = {"static", "bootstrap.static"}


def test_every_route_declares_its_access(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT and rule_for(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == [], f"routes without @access.*: {undeclared}"


def test_an_undeclared_route_is_refused(app):
    from flask import Flask

    from portal import create_app

    probe = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    assert isinstance(probe, Flask)

    @probe.route("/forgotten-declaration")
    def forgotten():  # pragma: no cover - must never run
        return "leak"

    assert probe.test_client().get("/forgotten-declaration").status_code == 403


# The document and the reference page are public; every other /api route needs a key.
PUBLIC_API_ROUTES = {"api_docs.openapi_document", "api_docs.reference_page"}


def test_every_api_route_declares_a_key_and_its_power(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        declared = rule_for(app.view_functions[rule.endpoint])
        expected = "public" if rule.endpoint in PUBLIC_API_ROUTES else "api_key"
        assert declared.kind == expected, rule.endpoint


def test_a_key_route_refuses_a_request_without_a_key(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
