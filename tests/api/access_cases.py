"""Access cases of the API key pages and of every /api/v1 route.

CASES: portal pages with an object id (the generic matrix). API_CASES: every API route;
`build(owner)` makes what the route reads and returns its URL arguments, `power` is the power
it declares, `foreign` the kind of organisation whose key must get 404 (None: nothing in the
route belongs to an organisation), `body` the JSON a POST sends.
"""

from collections.abc import Callable
from dataclasses import dataclass

from portal.organisations.models import Power
from tests.access import Case
from tests.api.conftest import issue_key
from tests.catalog.builders import make_item


def _key(organisation):
    return {"key_id": issue_key(organisation)[0].id}


CASES = {
    "api_keys.revoke_key": Case(_key, power=Power.MANAGE_USERS),
}


@dataclass(frozen=True)
class ApiCase:
    build: Callable
    power: object = None
    foreign: str | None = None
    kind: str = "pharmacy"
    body: dict | None = None


def _item(_organisation):
    return {"sku": make_item().sku}


# Catalogue items are shared by every pharmacy: "another organisation's" item is one a gas
# customer asks for (its key gets 404: for it the catalogue does not exist).
API_CASES = {
    "api_me.me": ApiCase(lambda o: {}),
    "api_catalog.list_items": ApiCase(lambda o: {}, power=Power.VIEW_PRICES, foreign="gas"),
    "api_catalog.show_item": ApiCase(_item, power=Power.VIEW_PRICES, foreign="gas"),
    "api_catalog.lookup_items": ApiCase(
        lambda o: {}, power=Power.VIEW_PRICES, foreign="gas", body={"codes": ["X1"]}
    ),
}


# --- orders and webhooks (portal.api.orders, portal.api.webhook_views) ------------------------


def _webhook(organisation):
    from portal.api.order_models import WebhookEndpoint
    from portal.extensions import db

    endpoint = WebhookEndpoint(
        organisation_id=organisation.id,
        url="http://localhost:9/hook",
        secret="whsec_test",
        events_text="order.status_changed",
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def _webhook_id(organisation):
    return {"endpoint_id": _webhook(organisation).id}


def _delivery_id(organisation):
    from portal.api.order_models import WebhookDelivery
    from portal.extensions import db

    delivery = WebhookDelivery(
        endpoint_id=_webhook(organisation).id,
        organisation_id=organisation.id,
        event_id=f"evt-{organisation.id}",
        event="order.status_changed",
        payload="{}",
        status="failed",
    )
    db.session.add(delivery)
    db.session.commit()
    return {"delivery_id": delivery.id}


def _order_number(organisation):
    from tests.catalog.builders import make_order

    return {"number": make_order(organisation).number}


def _orderable(_organisation):
    make_item(sku="ACCESS-1")
    return {}


CASES["api_keys.remove_webhook"] = Case(_webhook_id, power=Power.MANAGE_USERS)
CASES["api_keys.resend_delivery"] = Case(_delivery_id, power=Power.MANAGE_USERS)

# A dry run answers 200 (a placed order 201); a gas customer's key finds no ordering (404).
API_CASES["api_orders.create_order"] = ApiCase(
    _orderable,
    power=Power.ORDER,
    foreign="gas",
    body={
        "lines": [{"sku": "ACCESS-1", "quantity": 1}],
        "payment_terms": "prepayment",
        "dry_run": True,
    },
)
API_CASES["api_orders.list_orders"] = ApiCase(lambda o: {}, power=Power.ORDER, foreign="gas")
API_CASES["api_orders.show_order"] = ApiCase(_order_number, power=Power.ORDER, foreign="pharmacy")
API_CASES["api_orders.cancel_order"] = ApiCase(_order_number, power=Power.ORDER, foreign="pharmacy")
