"""GET /api/v1/catalog/items: the organisation's prices, stock, VAT; cursors, deltas, ETag."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.catalog.models import Item, ItemPrice, OrganisationPricing, PriceList
from portal.extensions import db
from portal.inventory.stock import reserve_stock
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.catalog.builders import give_terms, make_item, promote, warehouse
from tests.factories import make_organisation


def _page(client, token, **params):
    response = client.get("/api/v1/catalog/items", query_string=params, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _walk(client, token, **params):
    seen, pages, cursor = [], 0, None
    while True:
        query = dict(params, cursor=cursor) if cursor else dict(params)
        page = _page(client, token, **query)
        seen += [item["sku"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages


def test_an_item_carries_the_organisations_own_price_stock_vat_and_expiry(api_client, tax_day):
    tax_day(date.today())
    organisation = make_organisation()
    give_terms(organisation, discount="10")
    item = make_item("Нурофен", price="200.00", stock=37, min_quantity=2, order_multiple=2)
    _key, token = issue_key(organisation)
    found = _page(api_client, token)
    assert found["warehouse"] == {"code": "MSK", "name": "Склад Москва"}
    row = found["items"][0]
    assert row["sku"] == item.sku and row["ean"] == item.barcode
    assert row["price"] == "180.00" and row["list_price"] == "180.00"
    assert row["stock"] == 37 and row["min_quantity"] == 2 and row["order_multiple"] == 2
    assert row["vat_category"] == "reduced" and Decimal(row["vat_rate"]) == Decimal("10")
    assert row["nearest_expiry"] == (date.today() + timedelta(days=400)).isoformat()
    assert row["name"] == item.full_name and row["manufacturer"] == "Фармстандарт"
    one = api_client.get(f"/api/v1/catalog/items/{item.sku}", headers=bearer(token))
    assert one.get_json() == row
    assert_problem(api_client.get("/api/v1/catalog/items/NOPE", headers=bearer(token)), 404)


def test_another_organisations_prices_never_leak(api_client):
    special = PriceList(code="VIP", name="Особый")
    db.session.add(special)
    db.session.flush()
    item = make_item(price="100.00")
    db.session.add(ItemPrice(price_list_id=special.id, item_id=item.id, price=Decimal("55.00")))
    db.session.commit()
    vip = make_organisation()
    give_terms(vip, price_list=special, discount="5")
    ordinary = make_organisation()
    _key, vip_token = issue_key(vip)
    _key, ordinary_token = issue_key(ordinary)
    assert _page(api_client, vip_token)["items"][0]["price"] == "52.25"
    page = api_client.get("/api/v1/catalog/items", headers=bearer(ordinary_token))
    assert page.get_json()["items"][0]["price"] == "100.00"
    assert "52.25" not in page.get_data(as_text=True) and "55.00" not in page.get_data(as_text=True)


def test_pages_walk_every_active_item_exactly_once(api_client):
    skus = {make_item(f"Товар {n}").sku for n in range(23)}
    withdrawn = make_item("Снят")
    withdrawn.is_active = False
    db.session.commit()
    _key, token = issue_key()
    seen, pages = _walk(api_client, token, limit=5)
    assert sorted(seen) == sorted(skus) and len(seen) == len(set(seen))
    assert pages == 5


def test_a_forged_or_mismatched_cursor_is_422(api_client):
    for n in range(3):
        make_item(f"Товар {n}")
    _key, token = issue_key()
    cursor = _page(api_client, token, limit=1)["next_cursor"]
    for bad in (cursor[:-2] + "xx", "garbage"):
        response = api_client.get(
            "/api/v1/catalog/items", query_string={"cursor": bad}, headers=bearer(token)
        )
        assert assert_problem(response, 422)["errors"][0]["field"] == "cursor"
    mismatched = api_client.get(
        "/api/v1/catalog/items",
        query_string={"cursor": cursor, "updated_since": "2026-01-01T00:00:00Z"},
        headers=bearer(token),
    )
    assert_problem(mismatched, 422)


def test_updated_since_returns_what_changed_prices_stock_promotions_withdrawals(api_client):
    organisation = make_organisation()
    untouched, priced, stocked, promoted, withdrawn, renamed = (
        make_item(f"Товар {n}") for n in range(6)
    )
    _key, token = issue_key(organisation)
    first = _page(api_client, token)
    since = first["server_time"]
    assert _page(api_client, token, updated_since=since)["items"] == []

    price = db.session.scalar(select(ItemPrice).where(ItemPrice.item_id == priced.id))
    price.price = Decimal("123.00")
    db.session.commit()
    assert reserve_stock(warehouse().id, stocked.id, 5)
    db.session.commit()
    promote(promoted, "10")
    withdrawn.is_active = False
    renamed.trade_name = "Новое имя"
    db.session.commit()

    delta = _page(api_client, token, updated_since=since)["items"]
    by_sku = {row["sku"]: row for row in delta}
    assert set(by_sku) == {i.sku for i in (priced, stocked, promoted, withdrawn, renamed)}
    assert untouched.sku not in by_sku
    assert by_sku[priced.sku]["price"] == "123.00"
    assert by_sku[stocked.sku]["stock"] == 95
    assert by_sku[promoted.sku]["promotion"]["discount_percent"] == "10.00"
    assert by_sku[withdrawn.sku]["active"] is False
    assert by_sku[renamed.sku]["trade_name"] == "Новое имя"


def test_a_change_of_the_organisations_terms_resends_every_item(api_client):
    organisation = make_organisation()
    give_terms(organisation, discount="0")
    for n in range(3):
        make_item(f"Товар {n}")
    _key, token = issue_key(organisation)
    since = _page(api_client, token)["server_time"]
    terms = db.session.scalar(
        select(OrganisationPricing).where(OrganisationPricing.organisation_id == organisation.id)
    )
    terms.discount_percent = Decimal("3")
    db.session.commit()
    delta = _page(api_client, token, updated_since=since)["items"]
    assert len(delta) == 3 and delta[0]["price"] == "97.00"


def test_a_promotion_that_starts_later_shows_up_in_the_delta_on_its_day(api_client):
    item = make_item()
    promote(item, "20", starts=0, ends=5)
    old = db.session.get(Item, item.id)
    old.updated_at = datetime.now(UTC) - timedelta(days=3)
    db.session.commit()
    _key, token = issue_key()
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    delta = _page(api_client, token, updated_since=since)["items"]
    assert [row["sku"] for row in delta] == [item.sku]


def test_an_unchanged_page_answers_304_to_its_etag(api_client):
    item = make_item()
    _key, token = issue_key()
    first = api_client.get("/api/v1/catalog/items", headers=bearer(token))
    etag = first.headers["ETag"]
    again = api_client.get(
        "/api/v1/catalog/items", headers={**bearer(token), "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.get_data() == b""
    assert reserve_stock(warehouse().id, item.id, 1)
    db.session.commit()
    changed = api_client.get(
        "/api/v1/catalog/items", headers={**bearer(token), "If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    one = api_client.get(f"/api/v1/catalog/items/{item.sku}", headers=bearer(token))
    same = api_client.get(
        f"/api/v1/catalog/items/{item.sku}",
        headers={**bearer(token), "If-None-Match": one.headers["ETag"]},
    )
    assert same.status_code == 304


def test_gas_customers_have_no_catalogue(api_client):
    make_item()
    _key, token = issue_key(make_organisation("gas"))
    assert_problem(api_client.get("/api/v1/catalog/items", headers=bearer(token)), 404)


def test_lookup_by_sku_or_ean_lists_the_codes_not_found(api_client):
    first, second = make_item("Первый"), make_item("Второй")
    _key, token = issue_key()
    response = api_client.post(
        "/api/v1/catalog/items/lookup",
        json={"codes": [first.sku, second.barcode, "0000000000000", first.sku]},
        headers=bearer(token),
        csrf=False,
    )
    body = response.get_json()
    assert sorted(i["sku"] for i in body["items"]) == sorted([first.sku, second.sku])
    assert body["not_found"] == ["0000000000000"]
