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
