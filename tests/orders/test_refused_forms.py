"""Refused ordering forms answer 422 and write nothing: no order, no stock taken, the cart as
it was (the request's transaction is rolled back; a savepoint undoes lines saved before the
refused one)."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import CartLine, Order, OrderLine
from tests.catalog.builders import make_item, stock_of
from tests.orders.test_orders import checkout, fill_cart


def counts():
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Order.id))),
        db.session.scalar(select(func.count(OrderLine.id))),
        db.session.scalar(select(func.count(CartLine.id))),
    )


def quantities():
    db.session.expire_all()
    return dict(db.session.execute(select(CartLine.item_id, CartLine.quantity)).all())


def test_checkout_with_a_bad_quantity_answers_422_and_places_nothing(login_as, buyer, pharmacy):
    item = make_item("Нурофен", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 2)
    line = db.session.scalar(select(CartLine))
    line.quantity = 50  # more than the shelf holds (the stock went while it sat in the cart)
    db.session.commit()
    before = counts()
    response = checkout(client, pharmacy)
    assert response.status_code == 422
    assert "Some cart lines" in response.get_data(as_text=True) or "внимания" in (
        response.get_data(as_text=True)
    )
    assert counts() == before == (0, 0, 1)
    assert stock_of(item) == 10 and quantities() == {item.id: 50}


def test_checkout_refused_when_stock_ran_out_answers_422(login_as, buyer, pharmacy):
    item = make_item("Нурофен", stock=5)
    client = login_as(buyer)
    fill_cart(client, item, 5)
    from portal.inventory.stock import reserve_stock

    assert reserve_stock(item.stock[0].warehouse_id, item.id, 3)  # someone else bought 3
    db.session.commit()
    response = checkout(client, pharmacy)
    assert response.status_code == 422
    assert counts() == (0, 0, 1) and stock_of(item) == 2


def test_cart_update_with_one_bad_line_answers_422_and_saves_no_line(login_as, buyer):
    first = make_item("Нурофен", sku="F1", stock=100)
    second = make_item("Анальгин", sku="F2", stock=100)
    client = login_as(buyer)
    fill_cart(client, first, 2)
    fill_cart(client, second, 3)
    lines = {line.item_id: line.id for line in db.session.scalars(select(CartLine))}
    data = {f"quantity-{lines[first.id]}": "7", f"quantity-{lines[second.id]}": "abc"}
    response = client.post("/cart/update", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "целое число" in response.get_data(as_text=True)
    assert quantities() == {first.id: 2, second.id: 3}
    # The plain form: refused with a message after the redirect, nothing saved either.
    plain = client.post("/cart/update", data=data, follow_redirects=True)
    assert "целое число" in plain.get_data(as_text=True)
    assert quantities() == {first.id: 2, second.id: 3}


def test_refused_quick_order_answers_422_and_adds_nothing(login_as, buyer):
    make_item("Нурофен", sku="F1", stock=100)
    response = login_as(buyer).post("/cart/quick", data={"lines": "F1 2\nNOPE 1"})
    assert response.status_code == 422
    assert counts() == (0, 0, 0)


def test_add_to_cart_beyond_stock_answers_422_in_place(login_as, buyer):
    item = make_item("Нурофен", stock=3)
    response = login_as(buyer).post(
        "/cart/add",
        data={"item_id": item.id, "quantity": "5"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert counts() == (0, 0, 0)
