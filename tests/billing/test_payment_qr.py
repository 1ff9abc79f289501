"""The payment QR (ГОСТ Р 56042-2014) on the invoice PDF, the order page and the account page,
read back by the bank import; payment statuses from the allocation."""

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from portal.billing import payment_qr, payment_status
from tests.catalog.builders import make_item
from tests.orders.test_orders import place

PDFTOPPM = shutil.which("pdftoppm")


def decode_qr_of_pdf(pdf: bytes, tmp_path) -> list[str]:
    """Render the PDF's first page at 200 dpi and decode every QR code on it (zxing-cpp)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    source = tmp_path / "invoice.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-r", "200", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    image = Image.open(tmp_path / "page.png")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def fields_of(text: str) -> dict[str, str]:
    header, *pairs = text.split("|")
    assert header == "ST00012"  # ГОСТ Р 56042-2014, UTF-8, «|» as the separator
    return dict(pair.split("=", 1) for pair in pairs)


def two_rate_order(client, pharmacy):
    make_item("Нурофен", price="110.00", vat="reduced")
    client.post(
        "/cart/add",
        data={"item_id": make_item("Нурофен", price="110.00", vat="reduced").id, "quantity": 1},
    )
    return place(client, pharmacy, make_item("Пластырь", price="120.00", vat="general"), 1)


def statement(text):
    return {"file": (io.BytesIO(text.encode("utf-8")), "statement.csv")}


HEADER = "payer_inn;amount;date;document_number;purpose\n"


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm not installed")
def test_the_invoice_pdf_carries_a_qr_whose_fields_are_the_invoices(
    app, login_as, buyer, pharmacy, tmp_path, tax_day
):
    tax_day(date(2026, 3, 2))
    client = login_as(buyer)
    order = two_rate_order(client, pharmacy)
    [text] = decode_qr_of_pdf(client.get(f"/orders/{order.id}/invoice.pdf").data, tmp_path)
    fields = fields_of(text)
    supplier = app.config["SUPPLIER"]
    day = payment_status.invoice_date(order)
    assert fields == {
        "Name": supplier["name"],
        "PersonalAcc": supplier["account"],
        "BankName": supplier["bank"],
        "BIC": supplier["bik"],
        "CorrespAcc": supplier["corr_account"],
        "PayeeINN": supplier["inn"],
        "KPP": supplier["kpp"],
        "Sum": "23000",  # 230,00 ₽ in kopecks
        # 110 ₽ at 10 % holds 10,00 of VAT; 120 ₽ at 22 % holds 21,64.
        "Purpose": f"Оплата по счёту № {order.number} от {day:%d.%m.%Y}, "
        "в т.ч. НДС 10 % 10,00 руб., НДС 22 % 21,64 руб.",
    }


def test_a_value_with_the_separator_or_too_long_is_refused_by_name(app):
    supplier = dict(app.config["SUPPLIER"])
    assert payment_qr.payment_qr_text(supplier, "1.5", "Оплата").endswith("|Sum=150|Purpose=Оплата")
    with pytest.raises(payment_qr.PaymentQrError) as error:
        payment_qr.payment_qr_text(supplier, "10", "Оплата | по счёту")
    assert error.value.field == "Purpose"
    with pytest.raises(payment_qr.PaymentQrError) as error:
        payment_qr.payment_qr_text(supplier, "10", "я" * 211)
    assert error.value.field == "Purpose"
    with pytest.raises(payment_qr.PaymentQrError) as error:
        payment_qr.payment_qr_text(supplier, "0", "Оплата")
    assert error.value.field == "Sum"
    supplier["name"] = 'ООО "Труба|Газ"'
    assert payment_qr.supplier_qr_problem(supplier).startswith("SUPPLIER_NAME: contains")
    supplier.update(name="ООО Газ", bik="04452598")
    assert payment_qr.supplier_qr_problem(supplier).startswith("SUPPLIER_BIK: not 9 digits")


def test_purpose_without_vat_says_so():
    assert payment_qr.vat_clause({}) == "без НДС"
    assert payment_qr.vat_clause({Decimal("0"): Decimal("0.00")}) == "без НДС"
