"""The price list XLSX as a buyer opens it in a spreadsheet (read back with openpyxl): stock
of the serving warehouse in words or packs, the nearest expiry, a frozen header with filters,
widths and formats; filled in, it goes back in as an order file."""

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from portal.catalog.price_list import HEADERS
from portal.extensions import db
from portal.inventory.models import Batch
from portal.orders.models import CartLine
from portal.reports import xlsx
from tests.catalog.builders import make_item, warehouse

STOCK, EXPIRY, ORDER = HEADERS.index("Остаток"), HEADERS.index("Ближайший срок годности"), 16


def download(client):
    with client.get("/catalog/price-list.xlsx") as response:
        assert response.status_code == 200
        data = response.data
    return data, load_workbook(io.BytesIO(data)).active


def test_price_list_shows_stock_nearest_expiry_frozen_header_and_filter(login_as, buyer):
    today = date.today()
    in_stock = make_item("Нурофен", sku="P1", stock=1200, expires_in_days=300)
    # a second batch expiring sooner, an expired one and one emptied: only the first counts
    for days, quantity in ((90, 5), (-3, 7), (30, 0)):
        db.session.add(
            Batch(
                item_id=in_stock.id,
                warehouse_id=warehouse().id,
                series=f"B{days}",
                expires_on=today + timedelta(days=days),
                quantity=quantity,
            )
        )
    # stock in another region's warehouse is not the buyer's
    make_item("Кеторол", sku="P2", stock=40, in_warehouse=warehouse("Казань", "KZN", central=False))
    make_item("Бинт", sku="P3", stock=0)
    db.session.commit()
    _data, sheet = download(login_as(buyer))
    assert [cell.value for cell in sheet[2]] == list(HEADERS)
    assert sheet.freeze_panes == "A3"  # the title and the header stay in view
    assert sheet.auto_filter.ref == f"A2:Q{sheet.max_row}"
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    assert rows["P1"][STOCK].value == 1200 and rows["P1"][STOCK].number_format == "#,##0"
    assert rows["P1"][EXPIRY].value.date() == today + timedelta(days=90)
    assert rows["P1"][EXPIRY].number_format == xlsx.DATE_FORMAT
    assert rows["P1"][12].number_format == xlsx.MONEY_FORMAT
    assert rows["P2"][STOCK].value == "Нет в наличии" and rows["P2"][EXPIRY].value is None
    assert rows["P3"][STOCK].value == "Нет в наличии"
    assert rows["P1"][ORDER].value is None  # the buyer's column, empty
    assert sheet.column_dimensions["B"].width == 60
    assert sheet.column_dimensions["P"].width == 14
    assert "Склад Москва" in sheet["A1"].value


def test_the_price_list_filled_in_is_an_order_file(login_as, buyer):
    nurofen = make_item("Нурофен", sku="P1", stock=100)
    ketorol = make_item("Кеторол", sku="P2", stock=100)
    make_item("Бинт", sku="P3", stock=100)
    client = login_as(buyer)
    data, _sheet = download(client)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    for row in sheet.iter_rows(min_row=3):
        row[ORDER].value = {"P1": 3, "P2": "2 шт"}.get(row[0].value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(
        "/cart/upload",
        data={"file": (io.BytesIO(buffer.getvalue()), "price-list.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    cart = dict(db.session.execute(select(CartLine.item_id, CartLine.quantity)).all())
    assert cart == {nurofen.id: 3, ketorol.id: 2}  # the rows left empty are not ordered


def test_an_out_of_stock_line_in_the_filled_price_list_is_reported(login_as, buyer):
    make_item("Бинт", sku="P3", stock=0)
    client = login_as(buyer)
    data, _sheet = download(client)
    workbook = load_workbook(io.BytesIO(data))
    workbook.active.cell(row=3, column=ORDER + 1, value=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = client.post(
        "/cart/upload",
        data={"file": (io.BytesIO(buffer.getvalue()), "price-list.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Нет в наличии." in page
    assert db.session.scalar(select(CartLine.id)) is None


def test_an_out_of_stock_item_card_offers_no_add_button(login_as, buyer):
    item = make_item("Бинт", sku="P3", stock=0)
    page = login_as(buyer).get(f"/catalog/items/{item.id}").get_data(as_text=True)
    assert 'data-testid="out-of-stock">Нет в наличии<' in page
    actions = re.findall(r'<form[^>]*action="([^"]*)"', page)
    assert f"/catalog/items/{item.id}/favourite" in actions and "/cart/add" not in actions
