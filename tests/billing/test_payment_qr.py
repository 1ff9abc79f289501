"""The payment QR (ГОСТ Р 56042-2014) on the invoice PDF, the order page and the account page,
read back by the bank import; payment statuses from the allocation."""

import io
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.billing import allocation, ledger, payment_qr, payment_status, shipments
from portal.billing.models import EntryKind, LedgerEntry
from portal.errors import UserError
from portal.extensions import db
from portal.orders.models import PaymentTerms
from tests.catalog.builders import make_item, make_order
from tests.factories import login, make_user
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
    with pytest.raises(UserError) as error:
        payment_qr.payment_qr_text(supplier, "10", "Оплата | по счёту")
    assert error.value.field == "Purpose"
    with pytest.raises(UserError) as error:
        payment_qr.payment_qr_text(supplier, "10", "я" * 211)
    assert error.value.field == "Purpose"
    with pytest.raises(UserError) as error:
        payment_qr.payment_qr_text(supplier, "0", "Оплата")
    assert error.value.field == "Sum"
    supplier["name"] = 'ООО "Труба|Газ"'
    assert payment_qr.supplier_qr_problem(supplier).startswith("PORTAL_SUPPLIER_NAME: contains")
    supplier.update(name="ООО Газ", bik="04452598")
    assert payment_qr.supplier_qr_problem(supplier).startswith("PORTAL_SUPPLIER_BIK: not 9 digits")


def test_purpose_without_vat_says_so():
    assert payment_qr.vat_clause({}) == "без НДС"
    assert payment_qr.vat_clause({Decimal("0"): Decimal("0.00")}) == "без НДС"


# --- statuses ---------------------------------------------------------------------------------


def placed_on(order, day):
    order.created_at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    db.session.commit()
    return order


def pay(organisation, amount, day, number, purpose):
    return ledger.post_payment(
        organisation.id,
        amount,
        entry_date=day,
        description="Оплата",
        document_number=number,
        purpose=purpose,
    )


def state(document, on):
    status = payment_status.document_status(document, on)
    return status.state, status.open_amount, status.days_overdue


def test_a_deferred_shipment_goes_unpaid_partly_overdue_paid(app, pharmacy, manager):
    app.config["PAYMENT_DEFERRAL_DAYS"] = 30
    order = make_order(pharmacy, quantity=2)  # 200,00 ₽
    order.payment_terms = PaymentTerms.DEFERRED
    placed_on(order, date(2026, 10, 30))
    before = payment_status.document_status(order, date(2026, 10, 31))
    assert before.kind == "invoice" and before.due_date is None  # nothing due before it ships
    shipments.post_shipment(order, manager, shipped_on=date(2026, 11, 2))
    db.session.commit()
    status = payment_status.document_status(order, date(2026, 11, 10))
    assert status.kind == "shipment" and status.due_date == date(2026, 12, 2)
    assert state(order, date(2026, 11, 10)) == ("unpaid", Decimal("200.00"), 0)
    pay(pharmacy, "50.00", date(2026, 11, 20), "П-1", f"Оплата по счёту № {order.number}")
    assert state(order, date(2026, 11, 19)) == ("unpaid", Decimal("200.00"), 0)  # as of a day
    assert state(order, date(2026, 11, 20)) == ("partly_paid", Decimal("150.00"), 0)
    assert state(order, date(2026, 12, 2)) == ("partly_paid", Decimal("150.00"), 0)  # due today
    assert state(order, date(2026, 12, 5)) == ("overdue", Decimal("150.00"), 3)
    pay(pharmacy, "150.00", date(2026, 12, 5), "П-2", f"Оплата по счёту № {order.number}")
    assert state(order, date(2026, 12, 5)) == ("paid", Decimal("0.00"), 0)


def test_a_prepayment_invoice_is_overdue_three_working_days_after_its_date(app, pharmacy):
    order = placed_on(make_order(pharmacy), date(2026, 11, 5))  # a Thursday
    status = payment_status.document_status(order, date(2026, 11, 10))
    assert status.due_date == date(2026, 11, 10)  # Fri, Mon, Tue
    assert status.state == "unpaid"
    assert state(order, date(2026, 11, 12)) == ("overdue", Decimal("200.00"), 2)


def test_a_gas_month_is_due_on_the_configured_day_of_the_next_month(app, gas_org):
    entry = ledger.post_charge(
        gas_org.id,
        "1220.00",
        entry_date=date(2026, 1, 31),
        description="Газ",
        document_number="ГП-1/2026-01",
        source_type="gas_charge",
    )
    status = payment_status.document_status(entry, date(2026, 3, 1))
    assert status.kind == "gas_month" and status.due_date == date(2026, 2, 25)
    assert status.state == "overdue" and status.days_overdue == 4


def test_open_documents_add_up_to_the_ledger_to_the_kopeck(app, pharmacy, manager):
    for n, amount in enumerate(("100.01", "200.02", "300.03")):
        ledger.post_charge(
            pharmacy.id,
            amount,
            entry_date=date(2026, 9, 1 + n),
            description="Отгрузка",
            document_number=f"У-{n}",
        )
    pay(pharmacy, "150.00", date(2026, 9, 10), "П-1", None)
    db.session.commit()
    documents = payment_status.organisation_open_documents(pharmacy.id, date(2026, 9, 30))
    assert [d.number for d in documents] == ["У-1", "У-2"]  # У-0 paid, У-1 in part (FIFO)
    assert sum(d.open_amount for d in documents) == ledger.balance(pharmacy.id) == Decimal("450.06")
    assert documents[0].state == "overdue" and documents[0].paid == Decimal("49.99")


# --- read back by the bank import -------------------------------------------------------------


def import_file(app, manager, text):
    staff = app.test_client()
    login(staff, manager)
    answer = staff.post("/backoffice/billing/payments", data=statement(text), follow_redirects=True)
    return answer.get_data(as_text=True)


def test_a_bank_payment_with_the_qr_purpose_pays_that_invoice(app, pharmacy, manager, tax_day):
    tax_day(date(2026, 12, 1))
    old = ledger.post_charge(  # an older debt: FIFO would take the money first
        pharmacy.id,
        "500.00",
        entry_date=date(2026, 11, 1),
        description="Отгрузка",
        document_number="У-OLD",
    )
    order = make_order(pharmacy)
    shipments.post_shipment(order, manager, shipped_on=date(2026, 11, 20))
    db.session.commit()
    qr = payment_qr.order_payment_qr(order)
    purpose = fields_of(qr.text)["Purpose"]
    assert state(order, date(2026, 12, 1))[0] != "paid"
    page = import_file(app, manager, HEADER + f"{pharmacy.inn};200,00;01.12.2026;777;{purpose}\n")
    assert "Загружено оплат: 1" in page, page
    assert state(order, date(2026, 12, 1)) == ("paid", Decimal("0.00"), 0)
    assert allocation.open_amount(old) == Decimal("500.00")  # the named invoice was paid


def test_a_prepayment_for_an_order_not_yet_charged_is_kept_for_it(app, pharmacy, manager, tax_day):
    tax_day(date(2026, 12, 1))
    old = ledger.post_charge(
        pharmacy.id,
        "500.00",
        entry_date=date(2026, 11, 1),
        description="Отгрузка",
        document_number="У-OLD",
    )
    order = make_order(pharmacy)
    db.session.commit()
    purpose = payment_qr.order_payment_qr(order).purpose
    page = import_file(app, manager, HEADER + f"{pharmacy.inn};200,00;01.12.2026;778;{purpose}\n")
    assert "Загружено оплат: 1" in page, page  # accepted, not refused as an unknown document
    [payment] = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.PAYMENT))
    assert allocation.allocations_of(payment) == []  # unallocated: the old debt is not paid
    assert allocation.open_amount(old) == Decimal("500.00")
    assert state(order, date(2026, 12, 1)) == ("paid", Decimal("0.00"), 0)  # the invoice
    # When the order ships, the prepayment pays its УПД, not the older debt.
    shipments.post_shipment(order, manager, shipped_on=date(2026, 12, 1))
    db.session.commit()
    status = payment_status.document_status(order, date(2026, 12, 1))
    assert status.kind == "shipment" and status.state == "paid"
    assert allocation.open_amount(old) == Decimal("500.00")


# --- pages ------------------------------------------------------------------------------------


def finance_user(pharmacy):
    from portal.organisations.models import Power

    return make_user(pharmacy, {Power.ORDER, Power.VIEW_PRICES, Power.VIEW_FINANCE}, login="fin")


def qr_request(client, **params):
    query = "&".join(f"qr-{key}={value}" for key, value in params.items())
    return client.get(f"/settlements/?{query}")


def test_account_qr_for_the_debt_the_overdue_part_or_an_amount_within_it(
    app, login_as, pharmacy, tax_day
):
    tax_day(date(2026, 12, 3))
    ledger.post_charge(
        pharmacy.id,
        "300.00",
        entry_date=date(2026, 11, 2),
        description="Отгрузка",
        document_number="У-1",
        vat_amount="27.27",
    )
    ledger.post_charge(
        pharmacy.id,
        "100.00",
        entry_date=date(2026, 12, 2),
        description="Отгрузка",
        document_number="У-2",
        vat_amount="9.09",
    )
    db.session.commit()
    client = login_as(finance_user(pharmacy))
    whole = qr_request(client, scope="debt").get_data(as_text=True)
    assert 'class="payment-qr-code"' in whole
    assert "|Sum=40000|Purpose=Оплата задолженности на 03.12.2026" in whole
    overdue = qr_request(client, scope="overdue").get_data(as_text=True)
    assert "|Sum=30000|" in overdue  # У-1 only: У-2 is due in three working days
    some = qr_request(client, scope="amount", amount="150,50").get_data(as_text=True)
    assert "|Sum=15050|" in some
    for amount, message in (
        ("0", "Сумма должна быть больше нуля."),
        ("-5", "Сумма должна быть больше нуля."),
        ("400,01", "Сумма больше остатка задолженности 400,00"),
        ("сто", "Введите сумму числом"),
    ):
        response = qr_request(client, scope="amount", amount=amount)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in page.replace("\u202f", " ").replace("\u00a0", " ")
        assert 'class="payment-qr-code"' not in page and "ST00012" not in page


def test_missing_requisite_no_qr_staff_told_which_customer_not(
    app, login_as, buyer, pharmacy, manager, monkeypatch, tmp_path
):
    supplier = dict(app.config["SUPPLIER"], bank="")
    monkeypatch.setitem(app.config, "SUPPLIER", supplier)
    order = make_order(pharmacy)
    client = login_as(finance_user(pharmacy))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "ST00012" not in page and 'class="payment-qr-code"' not in page
    assert "Оплата по QR-коду сейчас недоступна" in page and "SUPPLIER_BANK" not in page
    staff = app.test_client()
    login(staff, manager)
    staff_page = staff.get(f"/backoffice/orders/{order.id}").get_data(as_text=True)
    assert "PORTAL_SUPPLIER_BANK: empty" in staff_page
    # The invoice itself is refused rather than printed with a blank bank (and no QR).
    refused = client.get(f"/orders/{order.id}/invoice.pdf")
    assert refused.status_code == 302 and refused.mimetype != "application/pdf"


def test_the_order_page_shows_the_qr_and_its_text_and_another_organisation_gets_404(
    app, login_as, pharmacy, other_pharmacy
):
    order = make_order(pharmacy)
    foreign = make_order(other_pharmacy)
    client = login_as(finance_user(pharmacy))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'class="payment-qr-code"' in page and f"Оплата по счёту № {order.number}" in page
    assert 'data-state="unpaid"' in page
    assert client.get(f"/orders/{foreign.id}").status_code == 404
    assert client.get(f"/orders/{foreign.id}/invoice.pdf").status_code == 404
    listing = client.get("/orders").get_data(as_text=True)
    assert listing.count('data-state="unpaid"') == 1  # only the own order
    assert "Не оплачен" in listing


def test_a_purpose_naming_another_organisations_order_is_refused(
    app, pharmacy, other_pharmacy, manager, tax_day
):
    tax_day(date(2026, 12, 1))
    foreign = make_order(other_pharmacy)
    page = import_file(
        app,
        manager,
        HEADER + f"{pharmacy.inn};200,00;01.12.2026;779;Оплата по счёту № {foreign.number}\n",
    )
    assert "договор или документ, которого у плательщика нет" in page
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payment")) is None
