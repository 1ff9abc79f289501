"""POST/GET /api/v1/orders: the cart's and checkout's rules, all or nothing, Idempotency-Key,
dry run, per-line problems, list/read/cancel, and a foreign order is 404."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.api.order_models import IdempotentRequest
from portal.extensions import db
from portal.orders.models import Order, OrderStatus
from portal.organisations.models import Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.catalog.builders import give_terms, make_item, make_order, promote, stock_of
from tests.factories import make_organisation

POWERS = (Power.ORDER, Power.VIEW_PRICES)


@pytest.fixture
def shop():
    organisation = make_organisation()
    give_terms(organisation, discount="0")
    key, token = issue_key(organisation, POWERS)
    return organisation, token


def orders_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Order.id)))


def post(client, token, body, *, key=None, query=""):
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/orders{query}", json=body, headers=headers, csrf=False)


def body_for(*lines, terms="prepayment", **extra):
    return {"lines": [dict(line) for line in lines], "payment_terms": terms, **extra}


def test_an_order_by_sku_and_ean_is_placed_priced_and_reserves_stock(api_client, shop):
    _organisation, token = shop
    a = make_item("Нурофен", price="120.00", stock=50, vat="reduced")
    b = make_item("Бинт", price="50.00", stock=10, vat="general")
    promote(b, "10")
    response = post(
        api_client,
        token,
        body_for({"sku": a.sku, "quantity": 3}, {"ean": b.barcode, "quantity": 2}),
        key="order-1",
    )
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "new" and order["number"]
    assert Decimal(order["total"]) == Decimal("360.00") + Decimal("90.00")
    rates = {row["rate"]: Decimal(row["vat"]) for row in order["vat_by_rate"]}
    assert set(rates) == {"10", "22"}
    assert [line["quantity"] for line in order["lines"]] == [3, 2]
    assert [event["status"] for event in order["timeline"]] == ["new"]
    assert stock_of(a) == 47 and stock_of(b) == 8
    shown = api_client.get(f"/api/v1/orders/{order['number']}", headers=bearer(token))
    assert shown.status_code == 200 and shown.get_json()["lines"] == order["lines"]


def test_every_bad_line_is_named_and_nothing_is_placed(api_client, shop, app):
    _organisation, token = shop
    ok = make_item("Аспирин", stock=100)
    boxed = make_item("Шприц", stock=100, min_quantity=10, order_multiple=10)
    scarce = make_item("Инсулин", stock=3)
    response = post(
        api_client,
        token,
        body_for(
            {"sku": ok.sku, "quantity": 1},
            {"sku": "NO-SUCH", "quantity": 1},
            {"sku": boxed.sku, "quantity": 15},
            {"sku": scarce.sku, "quantity": 5},
        ),
        key="bad-lines",
    )
    problem = assert_problem(response, 422)
    by_index = {e["index"]: e for e in problem["errors"]}
    assert set(by_index) == {1, 2, 3}
    assert by_index[1]["code"] == "unknown_code" and by_index[1]["sku"] == "NO-SUCH"
    assert by_index[2]["code"] == "not_multiple" and by_index[2]["field"] == "lines.2.quantity"
    assert by_index[3]["code"] == "insufficient_stock"
    assert "3" in by_index[3]["message"]
    assert orders_count() == 0 and stock_of(ok) == 100
    # The refusal is not stored: after fixing the stock, the same key places the order.
    assert db.session.scalar(select(func.count(IdempotentRequest.id))) == 0


def test_line_messages_follow_the_key_users_language(api_client, shop):
    organisation, _token = shop
    from tests.factories import make_user

    user = make_user(organisation)
    user.language = "ru"
    db.session.commit()
    _key, token = issue_key(organisation, POWERS, user=user)
    make_item()
    response = post(api_client, token, body_for({"sku": "NOPE", "quantity": 1}))
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["message"] == "Товар с таким кодом или штрихкодом не найден."


def test_a_repeat_returns_the_first_answer_and_another_body_is_refused(api_client, shop):
    _organisation, token = shop
    item = make_item(stock=20)
    body = body_for({"sku": item.sku, "quantity": 2})
    first = post(api_client, token, body, key="erp-42")
    again = post(api_client, token, body, key="erp-42")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert orders_count() == 1 and stock_of(item) == 18
    other = post(api_client, token, body_for({"sku": item.sku, "quantity": 4}), key="erp-42")
    problem = assert_problem(other, 422)
    assert "Idempotency-Key" in problem["detail"]
    assert orders_count() == 1 and stock_of(item) == 18
    # Keys are per organisation: another pharmacy's same key is its own order.
    stranger = make_organisation()
    give_terms(stranger)
    _k, other_token = issue_key(stranger, POWERS)
    assert post(api_client, other_token, body, key="erp-42").status_code == 201
    assert orders_count() == 2


def test_dry_run_prices_and_places_nothing(api_client, shop):
    _organisation, token = shop
    item = make_item(price="99.90", stock=5)
    promote(item, "10")
    for query, extra in (("?dry_run=true", {}), ("", {"dry_run": True})):
        response = post(
            api_client, token, body_for({"sku": item.sku, "quantity": 2}, **extra), query=query
        )
        assert response.status_code == 200, response.get_json()
        quote = response.get_json()
        assert quote["dry_run"] is True
        assert quote["lines"][0]["promotion"]["discount_percent"] == "10.00"
        assert Decimal(quote["total"]) == Decimal(quote["lines"][0]["amount"])
        assert quote["delivery_date"] >= date.today().isoformat()
    assert orders_count() == 0 and stock_of(item) == 5
    bad = post(api_client, token, body_for({"sku": item.sku, "quantity": 6}), query="?dry_run=1")
    assert assert_problem(bad, 422)["errors"][0]["code"] == "insufficient_stock"


def test_deferred_payment_beyond_the_credit_limit_is_refused(api_client, shop):
    organisation, token = shop
    organisation.credit_limit = Decimal("150.00")
    db.session.commit()
    item = make_item(price="100.00", stock=10)
    response = post(api_client, token, body_for({"sku": item.sku, "quantity": 2}, terms="deferred"))
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "payment_terms"
    assert orders_count() == 0
    ok = post(api_client, token, body_for({"sku": item.sku, "quantity": 1}, terms="deferred"))
    assert ok.status_code == 201


def test_deferred_payment_is_refused_on_credit_hold(api_client, shop):
    from portal.billing import ledger, receivables

    organisation, token = shop
    organisation.credit_limit = Decimal("100000.00")
    ledger.post_charge(
        organisation.id,
        Decimal("1000.00"),
        entry_date=date.today() - timedelta(days=120),
        description="Долг",
    )
    receivables.set_hold(organisation, "0", "Просрочка", None)
    db.session.commit()
    item = make_item(stock=10)
    response = post(api_client, token, body_for({"sku": item.sku, "quantity": 1}, terms="deferred"))
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "payment_terms"
    assert post(api_client, token, body_for({"sku": item.sku, "quantity": 1})).status_code == 201


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"lines": [{"sku": "A", "quantity": "2"}], "payment_terms": "prepayment"}, 422),
        ({"lines": [{"sku": "A", "quantity": 2.5}], "payment_terms": "prepayment"}, 422),
        ({"lines": [{"sku": "A", "quantity": 0}], "payment_terms": "prepayment"}, 422),
        ({"lines": [{"sku": "A", "ean": "1", "quantity": 1}], "payment_terms": "prepayment"}, 422),
        ({"lines": [{"quantity": 1}], "payment_terms": "prepayment"}, 422),
        ({"lines": [], "payment_terms": "prepayment"}, 422),
        ({"lines": [{"sku": "A", "quantity": 1}], "payment_terms": "later"}, 422),
        ({"lines": [{"sku": "A", "quantity": 1}], "payment_terms": "prepayment", "x": 1}, 422),
        (
            {"lines": [{"sku": "A", "quantity": 1, "price": "1"}], "payment_terms": "prepayment"},
            422,
        ),
    ],
)
def test_wrong_types_and_unknown_fields_are_problems(api_client, shop, body, status):
    _organisation, token = shop
    make_item(sku="A")
    assert_problem(post(api_client, token, body, key="k"), status)
    assert orders_count() == 0


def test_malformed_json_and_ten_thousand_lines_change_nothing(api_client, shop):
    _organisation, token = shop
    item = make_item(stock=100_000)
    broken = api_client.post(
        "/api/v1/orders",
        data='{"lines": [',
        headers={**bearer(token), "Content-Type": "application/json"},
        csrf=False,
    )
    assert broken.status_code in (400, 422)
    assert broken.mimetype == "application/problem+json"
    huge = post(api_client, token, body_for(*[{"sku": item.sku, "quantity": 1}] * 10_000))
    problem = assert_problem(huge, 413)
    assert "5000" in problem["detail"].replace("\xa0", "").replace(" ", "").replace(",", "")
    assert orders_count() == 0 and stock_of(item) == 100_000


def test_list_filters_and_pages_and_foreign_orders_are_404(api_client, shop):
    organisation, token = shop
    made = [make_order(organisation) for _ in range(3)]
    made[0].status = OrderStatus.CONFIRMED
    foreign = make_order(make_organisation())
    db.session.commit()
    page = api_client.get("/api/v1/orders?limit=2", headers=bearer(token)).get_json()
    assert len(page["orders"]) == 2 and page["next_cursor"]
    rest = api_client.get(
        f"/api/v1/orders?limit=2&cursor={page['next_cursor']}", headers=bearer(token)
    ).get_json()
    numbers = [o["number"] for o in page["orders"] + rest["orders"]]
    assert sorted(numbers) == sorted(o.number for o in made) and rest["next_cursor"] is None
    confirmed = api_client.get("/api/v1/orders?status=confirmed", headers=bearer(token))
    assert [o["number"] for o in confirmed.get_json()["orders"]] == [made[0].number]
    assert_problem(api_client.get(f"/api/v1/orders/{foreign.number}", headers=bearer(token)), 404)
    cancel = api_client.post(
        f"/api/v1/orders/{foreign.number}/cancel", headers=bearer(token), csrf=False
    )
    assert_problem(cancel, 404)
    future = (date.today() + timedelta(days=2)).isoformat()
    later = api_client.get(f"/api/v1/orders?updated_since={future}", headers=bearer(token))
    assert later.get_json()["orders"] == []


def test_cancel_while_new_and_409_after(api_client, shop):
    _organisation, token = shop
    item = make_item(stock=10)
    order = post(api_client, token, body_for({"sku": item.sku, "quantity": 4})).get_json()
    assert stock_of(item) == 6
    cancelled = api_client.post(
        f"/api/v1/orders/{order['number']}/cancel", headers=bearer(token), csrf=False
    )
    assert cancelled.status_code == 200
    assert [e["status"] for e in cancelled.get_json()["timeline"]] == ["new", "cancelled"]
    assert stock_of(item) == 10
    again = api_client.post(
        f"/api/v1/orders/{order['number']}/cancel", headers=bearer(token), csrf=False
    )
    assert assert_problem(again, 409)["status"] == 409


def test_prices_are_hidden_without_view_prices(api_client, shop):
    organisation, _token = shop
    _key, token = issue_key(organisation, (Power.ORDER,))
    item = make_item(stock=10)
    order = post(api_client, token, body_for({"sku": item.sku, "quantity": 1})).get_json()
    assert order["total"] is None and order["lines"][0]["price"] is None
    assert order["vat_by_rate"] == []


@pytest.mark.postgres
def test_parallel_repeats_of_one_key_make_one_order(app, shop):
    _organisation, token = shop
    item = make_item(stock=100)
    body = body_for({"sku": item.sku, "quantity": 1})
    barrier = threading.Barrier(8)
    answers = []

    def run():
        client = app.test_client(use_cookies=False)
        with app.app_context():
            barrier.wait()
            response = post(client, token, body, key="same-key-in-parallel")
            answers.append((response.status_code, response.get_json().get("number")))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert orders_count() == 1 and stock_of(item) == 99
    assert {status for status, _n in answers} == {201}
    assert len({number for _s, number in answers}) == 1


def test_a_key_whose_user_has_not_accepted_the_offer_gets_a_problem_not_a_redirect(api_client):
    from portal.accounts.services import publish_offer
    from tests.factories import make_user

    organisation = make_organisation()
    user = make_user(organisation)
    publish_offer("2026-12", "Оферта", "Текст новой оферты.", make_user(staff_role="admin"))
    db.session.commit()
    _key, token = issue_key(organisation, POWERS, user=user)
    response = api_client.get("/api/v1/orders", headers=bearer(token))
    problem = assert_problem(response, 403)
    assert problem["type"].endswith("#problem-offer-not-accepted")
