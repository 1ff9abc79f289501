"""A pharmacy buyer searches, fills the cart from an XLSX file, checks out, gets the invoice."""

import subprocess

import pytest
from openpyxl import Workbook

from tests.e2e.conftest import open_menu_if_collapsed, sign_in

pytestmark = pytest.mark.e2e


def test_buyer_orders_from_a_file_and_downloads_the_invoice(page, live_server, tmp_path):
    sign_in(page, live_server, "buyer")
    open_menu_if_collapsed(page)
    page.click("nav >> text=Каталог")
    page.fill("#q", "нурафен")  # a typo: the catalogue still finds Нурофен
    page.click("form >> text=Найти")
    assert "Нурофен" in page.inner_text("main")
    page.snap("search")
    with page.expect_response(lambda response: "/cart/add" in response.url):
        page.locator("form.add-to-cart").first.locator("button").click()  # in place (htmx)
    page.snap("added")

    order_file = tmp_path / "order.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Код", "Количество"])
    sheet.append(["A00007", 10])
    sheet.append(["A00009", 4])
    sheet.append(["NO-SUCH-CODE", 3])
    workbook.save(order_file)
    page.goto(live_server.url + "/cart/upload")
    page.set_input_files("#file", str(order_file))
    page.click("main form button[type=submit]")
    result = page.inner_text("main")
    assert "NO-SUCH-CODE" in result  # the unknown line is reported with its reason
    page.snap("file-refused-line")
    page.check("#skip_invalid")
    page.set_input_files("#file", str(order_file))
    page.click("main form button[type=submit]")
    page.goto(live_server.url + "/cart")
    assert "A00009" in page.inner_text("main") or "Нурофен" in page.inner_text("main")
    page.snap("cart")

    page.goto(live_server.url + "/checkout")
    page.snap("checkout")
    page.click("main form button[type=submit]")
    assert "/orders/" in page.url
    page.snap("order")
    with page.expect_download() as download_info:
        page.click("text=Счёт (PDF)")
    pdf = tmp_path / "invoice.pdf"
    download_info.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Счёт на оплату" in text and "Аптека Здоровье" in text
