"""Spreadsheets are data, never formulas: text from customers, imports and banks that starts
like a formula is written as text by every XLSX the portal produces; numbers stay numbers."""

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from portal.extensions import db
from portal.organisations.models import ALL_POWERS
from portal.reports import xlsx
from tests.catalog.builders import make_item
from tests.factories import make_user
from tests.metering.helpers import add_reading, make_contract, make_meter
from tests.orders.test_orders import place
from tests.reports.xlsx_checks import FORMULA_LIKE, assert_text_not_formula, cells


def test_the_writer_keeps_formula_like_text_as_text_and_numbers_as_numbers():
    """And drops control characters, which openpyxl refuses (the download would fail)."""
    workbook, sheet = xlsx.new_write_only("test")
    sheet.append([*FORMULA_LIKE, "\tTAB", "\rCR", xlsx.cell(sheet, "=1+1", bold=True)])
    sheet.append([-5, Decimal("-3.50"), xlsx.cell(sheet, Decimal("-7.25")), "обычный\x0b текст"])
    data = xlsx.to_bytes(workbook)
    assert_text_not_formula(data, *FORMULA_LIKE, "\tTAB", "=1+1")
    [carriage] = [c for c in cells(data) if str(c.value).endswith("CR")]  # XML reads CR as LF
    assert carriage.data_type == "s" and carriage.quotePrefix
    row = load_workbook(io.BytesIO(data)).active[2][:4]
    assert [c.value for c in row] == [-5, -3.5, -7.25, "обычный текст"]
    assert [c.data_type for c in row] == ["n", "n", "n", "s"]


def test_order_xlsx_writes_item_names_and_codes_as_text(login_as, buyer, pharmacy):
    item = make_item(FORMULA_LIKE[0], sku="+SKU1", price="100.00")
    client = login_as(buyer)
    order = place(client, pharmacy, item, 2)
    with client.get(f"/orders/{order.id}/order.xlsx") as response:
        assert response.status_code == 200
        data = response.data
    assert_text_not_formula(data, FORMULA_LIKE[0], "+SKU1")


def test_price_list_writes_imported_names_as_text(login_as, buyer):
    make_item("+1+1", sku="-P1", generic_name="@SUM(A1)")
    with login_as(buyer).get("/catalog/price-list.xlsx") as response:
        assert response.status_code == 200
        data = response.data
    assert_text_not_formula(data, "+1+1", "-P1", "@SUM(A1)")


def test_readings_template_writes_serials_and_contracts_as_text(login_as, gas_org):
    contract = make_contract(gas_org, number="@SUM(A1)")
    meter = make_meter(gas_org, contract, serial="=1+1")
    meter.address = FORMULA_LIKE[0]
    add_reading(meter, date(2026, 10, 22), 5000)
    db.session.commit()
    client = login_as(make_user(gas_org, ALL_POWERS, login="gas"))
    with client.get("/metering/readings/template.xlsx") as response:
        assert response.status_code == 200
        data = response.data
    assert_text_not_formula(data, "=1+1", FORMULA_LIKE[0], "@SUM(A1)")
