import pytest

from portal.api import keys
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Membership, Power

# Fixtures of other rooms the API tests reuse: a ledger and the statement queue, a shipped
# order with its УПД, gas meters with readings and a pinned "today".
from tests.billing.conftest import ledger, queue  # noqa: F401
from tests.billing.test_upd import buyer_org, mixed_order  # noqa: F401
from tests.factories import make_organisation, make_user
from tests.metering.conftest import gas_user, meters, today  # noqa: F401


def issue_key(organisation=None, powers=(Power.VIEW_PRICES,), *, user=None, **options):
    """A key of a (new) member of the organisation; returns (row, the full key)."""
    organisation = organisation or make_organisation()
    user = user or make_user(organisation, ALL_POWERS)
    membership = db.session.scalar(
        db.select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    key, token = keys.create_key(
        membership, name=options.pop("name", "ERP"), powers=powers, **options
    )
    db.session.commit()
    return key, token


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].endswith(body["type"].split("#")[-1])
    return body


@pytest.fixture
def api_client(app):
    """A client that sends no cookies of its own: what an ERP's HTTP library is."""
    return app.test_client(use_cookies=False)
