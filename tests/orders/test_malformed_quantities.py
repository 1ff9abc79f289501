"""Quantities no person means («²», «①», 5,000 digits, Arabic-Indic «٣», exponents): each gets
a message and changes nothing; never a 500, never a silent reading of «٣» as 3."""

import io

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import CartLine, OrderLine
from tests.catalog.builders import make_item
from tests.factories import login
from tests.orders.test_orders import place

ODD_QUANTITIES = ["²", "①", "9" * 5000, "٣", "٣٣", "1e3", "1_000", "9" * 12]


def cart_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(CartLine.id)))


@pytest.mark.parametrize("quantity", ODD_QUANTITIES)
def test_add_to_cart_refuses_odd_quantities(login_as, buyer, quantity):
    item = make_item("Нурофен", sku="F1", stock=10_000)
    response = login_as(buyer).post(
        "/cart/add",
        data={"item_id": item.id, "quantity": quantity, "next": "/cart"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "целое число упаковок" in response.get_data(as_text=True)
    assert cart_count() == 0


def test_quick_order_reports_odd_quantities_and_separator_lines(login_as, buyer):
    make_item("Нурофен", sku="F1", stock=10_000)
    text = "\n".join(f"F1 {quantity}" for quantity in ODD_QUANTITIES) + "\n;;\n,\n"
    response = login_as(buyer).post("/cart/quick", data={"lines": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # refused: nothing added
    assert page.count("не является целым числом больше нуля") == len(ODD_QUANTITIES)
    assert page.count("Не указан код.") == 2  # «;;» and «,»
    assert cart_count() == 0


def test_quick_order_code_with_a_nul_byte_is_refused(login_as, buyer):
    """Found by the property-based test on PostgreSQL, which refuses NUL in a query (a 500):
    the request guard answers 400 with a message, and nothing reaches the cart."""
    make_item("Нурофен", sku="F1", stock=10_000)
    response = login_as(buyer).post("/cart/quick", data={"lines": "F1\x00 2\n\x00"})
    assert response.status_code == 400
    assert cart_count() == 0


def test_order_file_with_arabic_indic_digits_is_reported(login_as, buyer):
    make_item("Нурофен", sku="F1", stock=10_000)
    data = "Код;Количество\nF1;٣\n".encode()
    page = (
        login_as(buyer)
        .post(
            "/cart/upload",
            data={"file": (io.BytesIO(data), "order.csv")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert "Количество «٣» не является целым числом больше нуля." in page
    assert cart_count() == 0


def test_cart_update_refuses_odd_quantities(login_as, buyer):
    item = make_item("Нурофен", sku="F1", stock=10_000)
    client = login_as(buyer)
    client.post("/cart/add", data={"item_id": item.id, "quantity": "2", "next": "/cart"})
    line = db.session.scalar(select(CartLine))
    for quantity in ODD_QUANTITIES:
        page = client.post(
            "/cart/update", data={f"quantity-{line.id}": quantity}, follow_redirects=True
        ).get_data(as_text=True)
        assert "целое число упаковок" in page, quantity
    db.session.expire_all()
    assert db.session.scalar(select(CartLine.quantity)) == 2


def test_staff_shipped_quantity_in_odd_digits_is_refused(app, login_as, buyer, pharmacy, manager):
    item = make_item("Нурофен", price="100.00", stock=10)
    order = place(login_as(buyer), pharmacy, item, 4)
    staff = app.test_client()
    login(staff, manager)
    for status in ("confirmed", "assembling"):
        staff.post(f"/backoffice/orders/{order.id}/status", data={"status": status})
    line_id = order.lines[0].id
    for quantity in ("²", "٣", "9" * 5000):
        response = staff.post(
            f"/backoffice/orders/{order.id}/shipped",
            data={f"shipped-{line_id}": quantity},
            follow_redirects=True,
        )
        assert response.status_code == 422, quantity  # the order's page again, refused
        assert "отгруженное количество должно быть от 0 до 4" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrderLine, line_id).shipped_quantity is None
