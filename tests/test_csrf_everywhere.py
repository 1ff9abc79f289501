"""Every route that changes state refuses a request without the CSRF token, before anything runs."""

import pytest
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from portal.audit import AuditEvent
from portal.extensions import db
from tests.factories import login


def state_changing_rules(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        ),
        key=lambda rule: rule.rule,
    )


def example_url(rule):
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = next(iter(converter.items))
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def test_there_are_state_changing_routes_to_check(app):
    assert len(state_changing_rules(app)) > 40


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "buyer"])
def test_every_state_changing_route_refuses_a_missing_csrf_token(app, buyer, signed_in):
    client = app.test_client()
    if signed_in:
        login(client, buyer)
    before = db.session.query(AuditEvent).count()
    for rule in state_changing_rules(app):
        response = client.post(example_url(rule), data={}, csrf=False)
        # The API has no CSRF (no cookie authenticates it): without a key it answers 401.
        expected = 401 if rule.rule.startswith("/api/") else 400
        assert response.status_code == expected, f"{rule.rule} answered {response.status_code}"
    assert db.session.query(AuditEvent).count() == before  # nothing ran
