"""Contract test: schemathesis generates requests from /api/v1/openapi.json for every
operation and checks that none answers 500 and every answer matches the document."""

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from portal.organisations.models import ALL_POWERS
from tests.api.conftest import bearer, issue_key
from tests.catalog.builders import give_terms, make_item, promote
from tests.factories import make_organisation


def _document_app():
    """An application only to read the OpenAPI document from (at collection time)."""
    from portal import create_app

    return create_app(
        {"TESTING": True, "SECRET_KEY": "contract", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )


@pytest.fixture
def contract_key(app, monkeypatch):
    """A key with every power, of a pharmacy with terms, and a small catalogue to read."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "10000 per minute")
    organisation = make_organisation()
    give_terms(organisation, discount="7")
    items = [make_item(f"Товар {n}", sku=f"SKU{n}") for n in range(3)]
    promote(items[0], "10")
    # Something for the documents, readings and settlements endpoints to read too.
    from tests.api.access_cases import _meter, _statement_job
    from tests.api.test_documents import publish

    publish(organisation)
    _statement_job(organisation)
    _meter(organisation)
    return issue_key(organisation, tuple(ALL_POWERS))[1]


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(app, case, contract_key):
    # A fresh context per call: each request gets its own application context (flask.g).
    contextvars.Context().run(
        case.call_and_validate,
        app=app,
        headers=bearer(contract_key),
        checks=[not_a_server_error, response_schema_conformance],
    )
