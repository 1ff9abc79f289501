"""The gas monthly УПД (series «Г») with its «Акт приёма-передачи газа», and the УКД (series
«К») of a shipped quantity or a gas month corrected after the УПД: every element in the PDF
(pdftotext), the same figures in the XLSX, frozen originals, consecutive numbers, 404 for
another organisation, and refusals that save nothing."""

import io
import os
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.billing import primary, ukd
from portal.billing.gas_upd import gas_upd_of
from portal.billing.models import DocumentKind, GasCharge, LedgerEntry, PrimaryDocument
from portal.errors import UserError
from portal.extensions import db
from portal.metering.models import Reading
from portal.organisations.models import ALL_POWERS
from tests.billing.test_settlement import run
from tests.billing.test_upd import buyer_org, mixed_order, needs_pdftotext, pdf_text  # noqa: F401
from tests.factories import login, make_user
from tests.metering.helpers import add_reading, make_contract, make_meter

# 12 345.678 m³ = 12.346 тыс. м³ × 8 640.00 = 106 669.44; VAT 22 % (31.10.2026) = 23 467.28.
NET, VAT, TOTAL = "106669.44", "23467.28", "130136.72"


@pytest.fixture
def gas_month(app, gas_org):
    gas_org.kpp = "526001001"
    gas_org.legal_address = "603000, г. Нижний Новгород, ул. Заводская, д. 12"
    contract = make_contract(gas_org, number="ГП-77", price="8640.00", since=date(2024, 9, 1))
    contract.gas_act_required = True
    meter = make_meter(gas_org, contract)
    add_reading(meter, date(2026, 9, 20), 10000)
    reading = add_reading(meter, date(2026, 10, 20), "22345.678", consumption="12345.678")
    db.session.commit()
    run(app, "post-gas-charges", "--period", "2026-10")
    return contract, reading


@pytest.fixture
def gas_client(app, gas_org):
    client = app.test_client()
    login(client, make_user(gas_org, ALL_POWERS, login="gasbuyer"))
    return client


def gas_upd() -> PrimaryDocument:
    charge = db.session.scalar(select(GasCharge))
    return gas_upd_of(charge.id)


def xlsx_rows(client, url) -> list[tuple]:
    """The sheet's rows, numbers as Decimal (as exact as the PDF's text)."""
    with client.get(url) as response:
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    return [
        tuple(Decimal(str(v)) if isinstance(v, float) else v for v in row) for row in rows if row
    ]


def zip_names(client, url) -> list[str]:
    with client.get(url) as response:
        assert response.status_code == 200
        return sorted(zipfile.ZipFile(io.BytesIO(response.data)).namelist())


def pdf_words(data: bytes, tmp_path, name: str) -> str:
    """The PDF's text line by line as laid out (a copy kept in $GAS_UKD_SAMPLES to look at)."""
    if os.environ.get("GAS_UKD_SAMPLES"):
        Path(os.environ["GAS_UKD_SAMPLES"], name).write_bytes(data)
    return words(pdf_text(data, tmp_path, name=name, layout=True))


def words(page: str) -> str:
    return " ".join(" ".join(line.split()) for line in page.splitlines() if line.strip())


def correct_october(app, reading, consumption):
    reading = db.session.get(Reading, reading.id)
    reading.consumption = Decimal(consumption)
    db.session.commit()
    return run(app, "post-gas-charges", "--period", "2026-10")


# --- the gas monthly УПД -------------------------------------------------------------------


def test_posting_a_gas_month_issues_its_upd_once_in_series_g(app, gas_month, gas_org):
    document = gas_upd()
    assert (document.kind, document.series, document.year, document.number) == (
        "upd",
        "Г",
        2026,
        1,
    )
    assert document.printed_number == "Г-1" and document.document_date == date(2026, 10, 31)
    line = primary.snapshot_of(document)["lines"]
    assert len(line) == 1  # one line per contract-month
    assert {key: line[0][key] for key in ("unit_code", "unit_name", "quantity", "price")} == {
        "unit_code": "114",
        "unit_name": "тыс м3",
        "quantity": "12.346",
        "price": "8640.00",
    }
    assert (line[0]["net"], line[0]["vat"], line[0]["total"]) == (NET, VAT, TOTAL)
    assert line[0]["vat_rate"] == "22.00"
    # Posting the month again issues nothing new; a second contract takes the next number.
    run(app, "post-gas-charges", "--period", "2026-10")
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 1
    other = make_contract(gas_org, number="ГП-78", price="9000.00")
    add_reading(make_meter(gas_org, other), date(2026, 10, 21), 500, consumption=500)
    db.session.commit()
    run(app, "post-gas-charges", "--period", "2026-10")
    numbers = db.session.scalars(
        select(PrimaryDocument.number).where(PrimaryDocument.series == "Г")
    ).all()
    assert sorted(numbers) == [1, 2]


@needs_pdftotext
def test_the_gas_upd_pdf_prints_the_month_line_and_the_xlsx_the_same_figures(
    gas_month, gas_client, tmp_path
):
    document = gas_upd()
    response = gas_client.get(f"/settlements/documents/{document.id}/upd.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    # The series is Cyrillic: the file name travels as RFC 5987 (a production server refuses a
    # header that is not Latin-1).
    disposition = response.headers["Content-Disposition"]
    disposition.encode("latin-1")
    assert "filename*=UTF-8''upd-2026-%D0%93-1.pdf" in disposition
    page = pdf_words(response.data, tmp_path, "gas-upd.pdf")
    for expected in (
        "Универсальный",
        "Статус: 1",
        "Счет-фактура № Г-1 от 31.10.2026 (1)",
        'Покупатель: АО "Газ Тест" (6)',
        "ИНН/КПП покупателя:",
        "/526001001 (6б)",
        "Документ об отгрузке № п/п 1 № Г-1 от 31.10.2026; Договор поставки газа № ГП-77 от"
        " 01.09.2024",
        "Газ горючий природный за",
        "октябрь 2026 г.",
        "ГАЗ",
        "114",
        "тыс м3",
        "12,346",
        "8 640,00",
        "106 669,44",
        "без акциза",
        "22 %",
        "23 467,28",
        "130 136,72",
        "Всего к оплате (9) 106 669,44",
        "поставка газа за октябрь 2026 г. [12]",
        "«31» октября 2026 г.",
    ):
        assert expected in page, expected
    rows = xlsx_rows(gas_client, f"/settlements/documents/{document.id}/upd.xlsx")
    rows = [row for row in rows if row[4] == "114"]
    assert len(rows) == 1
    row = rows[0]
    assert (row[5], row[6], row[7], row[8], row[10], row[11], row[12]) == (
        "тыс м3",
        Decimal("12.346"),
        Decimal("8640.00"),
        Decimal(NET),
        "22\u00a0%",
        Decimal(VAT),
        Decimal(TOTAL),
    )


@needs_pdftotext
def test_the_gas_act_is_printed_where_the_contract_requires_it(
    app, gas_month, gas_client, gas_org, tmp_path
):
    document = gas_upd()
    response = gas_client.get(f"/settlements/documents/{document.id}/gas-act.pdf")
    assert response.status_code == 200
    page = pdf_words(response.data, tmp_path, "gas-act.pdf")
    for expected in (
        "Акт приёма-передачи газа № Г-1 от 31.10.2026",
        "за октябрь 2026 г. к договору поставки газа № ГП-77 от 01.09.2024",
        "12 345,678",
        "12,346",
        "8 640,00",
        NET.replace("106669", "106 669").replace(".", ","),
        "23 467,28",
        "130 136,72",
        "универсальному передаточному документу № Г-1 от 31.10.2026",
    ):
        assert expected in page, expected
    # A contract without the flag has no act: 404, and no link.
    contract, _reading = gas_month
    other = make_contract(gas_org, number="ГП-79", price="9000.00")
    add_reading(make_meter(gas_org, other), date(2026, 10, 21), 500, consumption=500)
    db.session.commit()
    run(app, "post-gas-charges", "--period", "2026-10")
    plain = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.number == 2))
    assert gas_client.get(f"/settlements/documents/{plain.id}/gas-act.pdf").status_code == 404
    listing = gas_client.get("/settlements/documents?month=2026-10").get_data(as_text=True)
    assert f"/settlements/documents/{document.id}/gas-act.pdf" in listing
    assert f"/settlements/documents/{plain.id}/gas-act.pdf" not in listing


def test_the_gas_customer_finds_the_upd_per_month_and_on_the_contract_page(gas_month, gas_client):
    contract, _reading = gas_month
    document = gas_upd()
    listing = gas_client.get("/settlements/documents?month=2026-10").get_data(as_text=True)
    assert "Г-1" in listing and f"/settlements/documents/{document.id}/upd.pdf" in listing
    names = zip_names(gas_client, "/settlements/documents/upd-month.zip?month=2026-10")
    xml = [name for name in names if name.endswith(".xml")]
    assert [name for name in names if name.endswith(".pdf")] == [
        "act-2026-Г-1.pdf",
        "upd-2026-Г-1.pdf",
    ]
    assert len(xml) == 1 and xml[0].startswith("ON_NSCHFDOPPR_")  # the УПД's ФНС XML
    page = gas_client.get(f"/metering/contracts/{contract.id}").get_data(as_text=True)
    assert f"/settlements/documents/{document.id}/upd.pdf" in page


def test_the_command_issues_the_upd_of_months_posted_before_and_is_idempotent(app, gas_month):
    document = gas_upd()
    charge_id = document.gas_charge_id
    db.session.delete(document)  # as a database from before the gas УПД existed
    db.session.commit()
    assert "gas УПД issued: 1" in run(app, "issue-gas-upd")
    assert "gas УПД issued: 0" in run(app, "issue-gas-upd")
    again = gas_upd_of(charge_id)
    assert primary.snapshot_of(again)["totals"]["total"] == TOTAL


def test_another_organisations_gas_documents_are_404(app, gas_month, pharmacy):
    document = gas_upd()
    outsider = app.test_client()
    login(outsider, make_user(pharmacy, ALL_POWERS, login="outsider"))
    for suffix in ("upd.pdf", "upd.xlsx", "gas-act.pdf"):
        assert outsider.get(f"/settlements/documents/{document.id}/{suffix}").status_code == 404


# --- the УКД of a gas month ---------------------------------------------------------------


@needs_pdftotext
def test_a_corrected_gas_month_gets_a_ukd_and_the_upd_stays(app, gas_month, gas_client, tmp_path):
    _contract, reading = gas_month
    original = gas_upd()
    sha = original.snapshot_sha256
    output = correct_october(app, reading, "13345.678")  # +1 000 m³
    assert "recalculated" in output
    first = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.kind == "ukd"))
    assert (first.series, first.number, first.corrects_id) == ("К", 1, original.id)
    assert first.gas_charge_id == original.gas_charge_id
    db.session.refresh(original)
    assert original.snapshot_sha256 == sha  # the original is never edited
    snapshot = primary.snapshot_of(first)
    line = snapshot["lines"][0]
    assert (line["before"]["quantity"], line["after"]["quantity"]) == ("12.346", "13.346")
    # 13.346 × 8 640 = 115 309.44 (+8 640.00); VAT 25 368.08 (+1 900.80).
    assert line["increase"] == {
        "quantity": "1.000",
        "net": "8640.00",
        "vat": "1900.80",
        "total": "10540.80",
    }
    assert line["decrease"] == {"quantity": "0.000", "net": "0.00", "vat": "0.00", "total": "0.00"}
    # The ledger's recalculation carries the same difference.
    adjustment = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "adjustment"))
    assert adjustment.debit == Decimal("10540.80") and adjustment.vat_amount == Decimal("1900.80")
    response = gas_client.get(f"/settlements/documents/{first.id}/ukd.pdf")
    assert response.status_code == 200
    page = pdf_words(response.data, tmp_path, "gas-ukd.pdf")
    for expected in (
        "Универсальный",
        "корректировочный",
        "Статус: 1",
        "1 – корректировочный счет-фактура и",
        "Приложение № 2 к постановлению Правительства Российской Федерации от 26 декабря 2011 г."
        " № 1137",
        "Корректировочный счет-фактура № К-1 от",
        "к счету-фактуре № Г-1 от 31.10.2026",
        "(1б)",
        'Покупатель: АО "Газ Тест" (3)',
        "Валюта: наименование, код Российский рубль, 643 (4)",
        "А (до изменения)",
        "Б (после изменения)",
        "В (увеличение)",
        "Г (уменьшение)",
        "12,346",
        "13,346",
        "106 669,44",
        "115 309,44",
        "8 640,00",
        "1 900,80",
        "10 540,80",
        "Всего увеличение (сумма строк В) 8 640,00 Х 1 900,80 10 540,80",
        "Всего уменьшение (сумма строк Г) 0,00 Х 0,00 0,00",
        "Основание корректировки",
        "Перерасчёт объёма газа за октябрь 2026 г.",
    ):
        assert expected in page, expected
    # A second correction corrects the latest state (the first УКД's «after»).
    correct_october(app, reading, "11345.678")  # −2 000 m³ from the corrected state
    second = db.session.scalar(
        select(PrimaryDocument).where(PrimaryDocument.kind == "ukd", PrimaryDocument.number == 2)
    )
    assert second.corrects_id == first.id
    line = primary.snapshot_of(second)["lines"][0]
    assert (line["before"]["quantity"], line["after"]["quantity"]) == ("13.346", "11.346")
    assert line["decrease"]["quantity"] == "2.000" and line["decrease"]["net"] == "17280.00"
    assert primary.snapshot_of(second)["original"]["number"] == "Г-1"
    assert ukd.corrections_of(original) == [first, second]


def test_a_gas_vat_correction_after_the_upd_is_a_ukd(app, gas_org):
    from portal.billing.corrections import correct_vat
    from portal.billing.models import VatRate

    # A database that went on charging 20 % in 2026: the month and its УПД at 20 %.
    rate = db.session.scalar(
        select(VatRate).where(VatRate.category == "general", VatRate.valid_from == date(2026, 1, 1))
    )
    rate.rate = Decimal("20")
    contract = make_contract(gas_org, number="ГП-80", price="8640.00")
    add_reading(make_meter(gas_org, contract), date(2026, 10, 20), 99, consumption="12345.678")
    db.session.commit()
    run(app, "post-gas-charges", "--period", "2026-10")
    assert primary.snapshot_of(gas_upd())["totals"]["vat"] == "21333.89"
    rate.rate = Decimal("22")
    db.session.commit()
    with app.test_request_context():
        correct_vat(date(2026, 1, 1), date(2026, 12, 31))
    db.session.commit()
    document = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.kind == "ukd"))
    line = primary.snapshot_of(document)["lines"][0]
    assert (line["before"]["vat_text"], line["after"]["vat_text"]) == ("20\u00a0%", "22\u00a0%")
    assert (line["before"]["vat"], line["after"]["vat"]) == ("21333.89", VAT)
    assert line["increase"]["vat"] == "2133.39" and line["increase"]["net"] == "0.00"


@pytest.fixture
def general_at_20(app):
    """A database that went on charging 20 % in 2026 (before `flask correct-vat`)."""
    from portal.billing.models import VatRate

    rate = db.session.scalar(
        select(VatRate).where(VatRate.category == "general", VatRate.valid_from == date(2026, 1, 1))
    )
    rate.rate = Decimal("20")
    db.session.commit()
    return rate


def test_a_shipment_vat_correction_after_the_upd_is_a_ukd(app, general_at_20, mixed_order):  # noqa: F811
    from portal.billing.corrections import correct_vat

    order, _client, _medicine, _plaster = mixed_order
    upd = primary.upd_of_order(order.id)
    assert [line["vat_text"] for line in primary.snapshot_of(upd)["lines"]] == [
        "10\u00a0%",
        "20\u00a0%",
    ]
    general_at_20.rate = Decimal("22")
    db.session.commit()
    with app.test_request_context():
        report = correct_vat(date(2026, 1, 1), date(2026, 12, 31))
        db.session.commit()
        again = correct_vat(date(2026, 1, 1), date(2026, 12, 31))
        db.session.commit()
    assert len(report.posted) == 1 and not again.posted
    documents = db.session.scalars(
        select(PrimaryDocument).where(PrimaryDocument.kind == DocumentKind.UKD)
    ).all()
    assert len(documents) == 1  # the repeated command issues no second УКД
    snapshot = primary.snapshot_of(documents[0])
    assert documents[0].corrects_id == upd.id
    medicine_line, plaster_line = snapshot["lines"]
    # The medicine stays at 10 %: its line does not change.
    assert medicine_line["increase"]["vat"] == medicine_line["decrease"]["vat"] == "0.00"
    assert (plaster_line["before"]["vat_text"], plaster_line["after"]["vat_text"]) == (
        "20\u00a0%",
        "22\u00a0%",
    )
    # 3 plasters at 120.00 with 20 %: net 300.00, VAT 60.00; at 22 % the VAT is 66.00.
    assert plaster_line["before"]["net"] == plaster_line["after"]["net"] == "300.00"
    assert (plaster_line["before"]["vat"], plaster_line["after"]["vat"]) == ("60.00", "66.00")
    assert snapshot["totals"]["difference"]["total"] == "6.00"
    correction = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.source_type == "shipment_vat_correction")
    )
    assert correction.amount == Decimal("6.00")  # the ledger and the УКД agree


# --- the УКД of a shipped quantity -----------------------------------------------------------


def correct(app, manager, order, quantities):
    staff = app.test_client()
    login(staff, manager)
    data = {f"corrected-{line.id}": str(count) for line, count in quantities}
    response = staff.post(
        f"/backoffice/orders/{order.id}/correct-shipment", data=data, follow_redirects=True
    )
    db.session.expire_all()
    return response


@needs_pdftotext
def test_a_manager_corrects_the_shipped_quantity_and_the_buyer_gets_a_ukd(
    app,
    mixed_order,  # noqa: F811
    manager,
    tmp_path,
):
    order, client, medicine, _plaster = mixed_order
    medicine_line = next(line for line in order.lines if line.item_id == medicine.id)
    original = primary.upd_of_order(order.id)
    staff_page = app.test_client()
    login(staff_page, manager)
    page = staff_page.get(f"/backoffice/orders/{order.id}").get_data(as_text=True)
    assert f'name="corrected-{medicine_line.id}"' in page
    response = correct(app, manager, order, [(medicine_line, 1)])
    assert response.status_code == 200
    assert "УКД № К-1" in response.get_data(as_text=True)
    document = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.kind == "ukd"))
    assert (document.printed_number, document.corrects_id) == ("К-1", original.id)
    assert document.shipment_id == original.shipment_id
    snapshot = primary.snapshot_of(document)
    # Every line of the УПД, the unchanged one with no difference.
    medicine_row = next(line for line in snapshot["lines"] if line["code"] == medicine_line.sku)
    assert (medicine_row["before"]["quantity"], medicine_row["after"]["quantity"]) == ("2", "1")
    assert medicine_row["decrease"] == {
        "quantity": "1",
        "net": "100.00",
        "vat": "10.00",
        "total": "110.00",
    }
    assert snapshot["totals"]["difference"] == {
        "net": "-100.00",
        "vat": "-10.00",
        "total": "-110.00",
    }
    # The ledger gets the difference with its VAT; the shipment and the order follow.
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.source_type == "ukd"))
    assert entry.credit == Decimal("110.00") and entry.vat_amount == Decimal("-10.00")
    assert entry.document_number == "К-1"
    assert db.session.get(type(medicine_line), medicine_line.id).shipped_quantity == 1
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "billing.shipment_corrected")
    )
    assert event.details["changes"] == {medicine_line.sku: [2, 1]}
    # The buyer finds it on the order's «Документы» tab and in the month's list and ZIP.
    tab = client.get(f"/orders/{order.id}/documents").get_data(as_text=True)
    assert 'data-testid="doc-ukd"' in tab and f"/settlements/documents/{document.id}/ukd.pdf" in tab
    month = document.document_date.strftime("%Y-%m")
    listing = client.get(f"/settlements/documents?month={month}").get_data(as_text=True)
    assert f"/settlements/documents/{document.id}/ukd.xlsx" in listing
    names = zip_names(client, f"/settlements/documents/upd-month.zip?month={month}")
    assert f"ukd-{document.year}-К-1.pdf" in names
    # PDF and XLSX print the same figures.
    response = client.get(f"/settlements/documents/{document.id}/ukd.pdf")
    pdf = pdf_words(response.data, tmp_path, "goods-ukd.pdf")
    for expected in (
        f"к счету-фактуре № {original.printed_number} от 10.03.2026",
        "Нурофен",
        "778",
        "упак",
        "А (до изменения)",
        "Г (уменьшение)",
        "10 %",
        "Всего уменьшение (сумма строк Г) 100,00 Х 10,00 110,00",
        "Уточнение количества отгруженного товара",
    ):
        assert expected in pdf, expected
    sheet = xlsx_rows(client, f"/settlements/documents/{document.id}/ukd.xlsx")
    rows = {(row[1], row[5]): row for row in sheet if len(row) > 5 and row[5]}
    decrease = rows[(medicine_line.sku, "Г (уменьшение)")]
    assert (decrease[6], decrease[8], decrease[11], decrease[12]) == (
        1,
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    )
    before = rows[(medicine_line.sku, "А (до изменения)")]
    assert (before[6], before[12]) == (2, Decimal("220.00"))
    totals = [row for row in sheet if row[0] and "Всего" in str(row[0])]
    assert [row[8] for row in totals] == [Decimal("0.00"), Decimal("100.00")]
    # A second correction corrects the УКД's state, with the next number.
    correct(app, manager, order, [(medicine_line, 2)])
    second = db.session.scalar(
        select(PrimaryDocument).where(PrimaryDocument.kind == "ukd", PrimaryDocument.number == 2)
    )
    assert second.corrects_id == document.id
    row = next(
        line for line in primary.snapshot_of(second)["lines"] if line["code"] == medicine_line.sku
    )
    assert (row["before"]["quantity"], row["after"]["quantity"]) == ("1", "2")


def test_a_correction_that_changes_nothing_or_ships_too_much_is_refused_and_saves_nothing(
    app,
    mixed_order,  # noqa: F811
    manager,
):
    order, *_ = mixed_order
    line = order.lines[0]

    def counts():
        return (
            db.session.scalar(select(func.count(PrimaryDocument.id))),
            db.session.scalar(select(func.count(LedgerEntry.id))),
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action.like("billing.%") | AuditEvent.action.like("ledger.%")
                )
            ),
        )

    before = counts()
    for quantity, message in (
        (line.quantity, "Корректировка ничего не меняет"),
        (line.quantity + 1, "больше заказанного"),
        ("-1", "целым числом"),
        ("два", "целым числом"),
    ):
        page = correct(app, manager, order, [(line, quantity)]).get_data(as_text=True)
        assert message in page, (quantity, page[-2000:])
        assert counts() == before
        assert db.session.get(type(line), line.id).shipped_quantity in (None, line.quantity)
    # Nothing was numbered: the first real correction is К-1.
    correct(app, manager, order, [(line, line.quantity - 1)])
    document = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.kind == "ukd"))
    assert document.printed_number == "К-1"


def test_an_unshipped_order_has_nothing_to_correct(app, buyer_org, buyer, manager, login_as):  # noqa: F811
    from tests.catalog.builders import make_item
    from tests.orders.test_orders import place

    item = make_item("Аспирин", price="50.00", vat="reduced")
    db.session.commit()
    order = place(login_as(buyer), buyer_org, item, 2)
    page = correct(app, manager, order, [(order.lines[0], 1)]).get_data(as_text=True)
    assert "не выписан УПД" in page
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 0
    with app.test_request_context(), pytest.raises(UserError):
        ukd.correct_shipment(order, {order.lines[0].id: 1}, manager)


def test_ukd_numbers_run_consecutively_across_goods_and_gas(app, mixed_order, manager, gas_month):  # noqa: F811
    order, *_ = mixed_order
    line = order.lines[0]
    _contract, reading = gas_month
    correct(app, manager, order, [(line, 1)])
    correct_october(app, reading, "13345.678")
    correct(app, manager, order, [(line, 2)])
    correct_october(app, reading, "12000")
    numbers = db.session.scalars(
        select(PrimaryDocument.number)
        .where(PrimaryDocument.kind == DocumentKind.UKD)
        .order_by(PrimaryDocument.id)
    ).all()
    assert numbers == [1, 2, 3, 4]


def test_another_organisations_ukd_is_404(app, mixed_order, manager, other_pharmacy):  # noqa: F811
    order, *_ = mixed_order
    correct(app, manager, order, [(order.lines[0], 1)])
    document = db.session.scalar(select(PrimaryDocument).where(PrimaryDocument.kind == "ukd"))
    outsider = app.test_client()
    login(outsider, make_user(other_pharmacy))
    for suffix in ("ukd.pdf", "ukd.xlsx", "upd.pdf"):
        assert outsider.get(f"/settlements/documents/{document.id}/{suffix}").status_code == 404


def test_the_manager_sets_the_gas_act_flag_on_the_contract_and_it_is_audited(app, gas_org, manager):
    contract = make_contract(gas_org, number="ГП-81", since=date(2026, 1, 1))
    gas_org.manager_id = manager.id
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    url = f"/backoffice/metering/contracts/{contract.id}/edit"
    assert 'name="gas_act_required"' in staff.get(url).get_data(as_text=True)
    data = {"number": "ГП-81", "start_date": "2026-01-01", "gas_act_required": "y"}
    assert staff.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(contract), contract.id).gas_act_required is True
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "metering.contract_updated")
    )
    assert event.details["gas_act_required"] == [False, True]
    add_reading(make_meter(gas_org, contract), date(2026, 10, 20), 99, consumption=99)
    db.session.commit()
    run(app, "post-gas-charges", "--period", "2026-10")
    assert primary.snapshot_of(gas_upd())["gas_act"] is True
