"""Quantities typed with the unit people write after them («2 шт», «3шт», «2 уп.», «2 упак»)
are read as packs in the cart form, the quick order and the order file; other words are
refused with a message and change nothing."""

import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.cart import parse_quantity
from portal.orders.models import CartLine
from portal.orders.order_files import parse_quick_order
from tests.catalog.builders import make_item


@pytest.mark.parametrize(
    ("typed", "packs"),
    [
        ("2", 2),
        ("2 шт", 2),
        ("2 шт.", 2),
        ("3шт", 3),
        ("3ШТ", 3),
        ("2 уп.", 2),
        ("2уп", 2),
        ("2 упак", 2),
        ("2 упак.", 2),
        ("5 упаковок", 5),
        ("1 упаковка", 1),
        ("10 штук", 10),
        ("2 pcs", 2),
        ("1 200 шт", 1200),
        ("12,0 шт", 12),
        ("2\u00a0шт", 2),
        # not a count of packs
        ("2 кг", None),
        ("2 мл", None),
        ("шт", None),
        ("шт 2", None),
        ("2 шт 3", None),
        ("два шт", None),
        ("2,5 шт", None),
        ("0 шт", None),
        ("-2 шт", None),
        ("2 .шт", None),
        ("2 шт..", None),
        ("٣ шт", None),
        ("", None),
    ],
)
def test_quantity_units_table(app, typed, packs):
    with app.test_request_context():
        assert parse_quantity(typed) == packs


def test_quick_order_splits_the_code_off_once(app):
    rows = parse_quick_order("A1 2 шт\nA2;3шт;\nA3 2,5\nA4\t2 уп.\nA5, 1 200")
    assert [(r.code, r.quantity_text) for r in rows] == [
        ("A1", "2 шт"),
        ("A2", "3шт"),
        ("A3", "2,5"),  # refused later as a fraction, never read as 25
        ("A4", "2 уп."),
        ("A5", "1 200"),
    ]
    with app.test_request_context():
        assert parse_quantity(rows[2].quantity_text) is None


def cart():
    db.session.expire_all()
    return dict(db.session.execute(select(CartLine.item_id, CartLine.quantity)).all())


def test_cart_form_reads_units_and_refuses_other_words(login_as, buyer):
    item = make_item("Нурофен", sku="F1", stock=100)
    client = login_as(buyer)
    client.post("/cart/add", data={"item_id": item.id, "quantity": "2 шт", "next": "/cart"})
    assert cart() == {item.id: 2}
    line_id = db.session.scalar(select(CartLine.id))
    client.post("/cart/update", data={f"quantity-{line_id}": "5 уп."})
    assert cart() == {item.id: 5}
    page = client.post(
        "/cart/update", data={f"quantity-{line_id}": "5 кг"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "целое число упаковок" in page
    assert cart() == {item.id: 5}
    page = client.post(
        "/cart/add",
        data={"item_id": item.id, "quantity": "два", "next": "/cart"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "целое число упаковок" in page and cart() == {item.id: 5}


def test_quick_order_and_order_file_read_units(login_as, buyer):
    first = make_item("Нурофен", sku="F1", stock=100)
    second = make_item("Кеторол", sku="F2", stock=100)
    client = login_as(buyer)
    client.post("/cart/quick", data={"lines": "F1 3шт\nF2 2 уп."})
    assert cart() == {first.id: 3, second.id: 2}
    data = "Код;Количество\nF1;2 упак\nF2;1 шт.\n".encode()
    client.post(
        "/cart/upload",
        data={"file": (io.BytesIO(data), "order.csv")},
        content_type="multipart/form-data",
    )
    assert cart() == {first.id: 5, second.id: 3}


def test_order_file_with_a_wrong_unit_is_refused_whole(login_as, buyer):
    make_item("Нурофен", sku="F1", stock=100)
    make_item("Кеторол", sku="F2", stock=100)
    data = "Код;Количество\nF1;2 шт\nF2;2 кг\n".encode()
    page = (
        login_as(buyer)
        .post(
            "/cart/upload",
            data={"file": (io.BytesIO(data), "order.csv")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert "Количество «2 кг» не является целым числом больше нуля." in page
    assert db.session.scalar(select(func.count(CartLine.id))) == 0
