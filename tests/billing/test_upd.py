"""The УПД of a shipment: its own number (per year, no gaps), every element of the official
form in the PDF, the same figures in the XLSX, a frozen snapshot, and refusals that change
nothing."""

import io
import os
import shutil
import subprocess
import threading
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from portal.audit import AuditEvent
from portal.billing import primary
from portal.billing.models import (
    DocumentCounter,
    LedgerEntry,
    PrimaryDocument,
    Shipment,
)
from portal.catalog.models import ItemPrice
from portal.errors import UserError
from portal.extensions import db
from portal.orders import workflow
from portal.orders.models import Order, OrderStatus
from tests.billing.test_vat import ship
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.jobs.conftest import worker  # noqa: F401 - the jobs queue played by the test
from tests.orders.test_orders import place

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
SHIP_DAY = date(2026, 3, 10)


def pdf_text(data: bytes, tmp_path, name="upd.pdf", layout=False) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    args = ["pdftotext", "-layout", str(path), "-"]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return output if layout else " ".join(output.split())


@pytest.fixture
def buyer_org(pharmacy):
    pharmacy.kpp = "770101001"
    pharmacy.legal_address = "115088, г. Москва, ул. Аптечная, д. 1"
    db.session.commit()
    return pharmacy


@pytest.fixture
def mixed_order(app, login_as, buyer, buyer_org, manager, tax_day):
    """2 packs of a medicine at 10 % and 3 plasters at 22 % (2026), shipped on 10.03.2026."""
    tax_day(SHIP_DAY)
    medicine = make_item("Нурофен", price="110.00", vat="reduced")
    plaster = make_item("Пластырь", price="120.00", vat="general")
    plaster.okei_code = "796"
    plaster.origin_country_code = "156"
    db.session.commit()
    client = login_as(buyer)
    client.post("/cart/add", data={"item_id": medicine.id, "quantity": 2})
    order = place(client, buyer_org, plaster, 3)
    ship(app, manager, order)
    return order, client, medicine, plaster


def the_upd(order) -> PrimaryDocument:
    return primary.upd_of_order(order.id)


def test_shipping_issues_a_upd_with_its_own_number_and_a_frozen_snapshot(mixed_order):
    order, _client, _medicine, _plaster = mixed_order
    document = the_upd(order)
    assert document is not None
    assert (document.kind, document.year, document.number) == ("upd", 2026, 1)
    assert document.printed_number != order.number  # its own number, not the order's
    assert document.document_date == SHIP_DAY
    snapshot = primary.snapshot_of(document)
    assert primary.digest(document.snapshot) == document.snapshot_sha256
    assert snapshot["totals"]["total"] == "580.00"
    assert [line["code"] for line in snapshot["lines"]] == [line.sku for line in order.lines]
    # The ledger (and so the settlement account and the «Акт сверки») names the УПД's own
    # number; the charge's document number stays the order's (payments name the order).
    from portal.billing.settlements import primary_document

    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.source_id == order.id))
    assert entry.document_number == order.number
    assert primary_document(entry) == (
        f"Отгрузка (УПД) № {document.printed_number} от 10.03.2026, заказ № {order.number}"
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "billing.document_issued")
    )
    assert event.details["number"] == "1" and event.details["order"] == order.number


@needs_pdftotext
def test_the_pdf_prints_every_element_of_the_form(mixed_order, tmp_path):
    order, client, medicine, plaster = mixed_order
    document = the_upd(order)
    response = client.get(f"/settlements/documents/{document.id}/upd.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    page = pdf_text(response.data, tmp_path, layout=True)
    if os.environ.get("UPD_SAMPLE"):  # keep the file to look at: UPD_SAMPLE=/tmp/upd.pdf
        shutil.copy(tmp_path / "upd.pdf", os.environ["UPD_SAMPLE"])
    # Line by line as laid out, each line's words in order.
    page = " ".join(" ".join(line.split()) for line in page.splitlines() if line.strip())
    snapshot = primary.snapshot_of(document)
    buyer = order.organisation
    number = document.printed_number
    expected = [
        "Универсальный",
        "передаточный документ",
        "Статус: 1",
        "1 – счет-фактура и передаточный",
        "2 – передаточный документ (акт)",
        f"Счет-фактура № {number} от 10.03.2026 (1)",
        "Исправление № -- от -- (1а)",
        "Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря 2011 г."
        " № 1137",
        "Продавец: ООО «Фарма-Газ Снабжение» (2)",
        "Адрес: 119415, г. Москва, пр-т Вернадского, д. 41, стр. 1, оф. 305 (2а)",
        "ИНН/КПП продавца: 7729012342/772901001 (2б)",
        "Грузоотправитель и его адрес: он же: ООО «Фарма-Газ Снабжение», 119415",
        'Грузополучатель и его адрес: ООО "Аптека Тест", Москва, ул. Тестовая',
        "К платежно-расчетному документу № -- от -- (5)",
        f"Документ об отгрузке № п/п 1–2 № {number} от 10.03.2026; Заказ № {order.number} от",
        'Покупатель: ООО "Аптека Тест" (6)',
        "Адрес: 115088, г. Москва, ул. Аптечная, д. 1 (6а)",
        f"ИНН/КПП покупателя: {buyer.inn}/770101001 (6б)",
        "Валюта: наименование, код Российский рубль, 643 (7)",
        "Идентификатор государственного",
        # the column headers and their numbers
        "Единица измерения",
        "Наименование товара (описание",
        "условное",
        "Страна происхождения",
        "Регистрационный",
        "Серия",
        "годности",
        "Сумма налога,",
        "предъявляемая",
        "акциза",
        "А Б 1 1а 2 2а 3 4 5 6 7 8 9 10 10а 11 — —",
        # the medicine: 2 × 110.00 = 220.00 with 10 % inside
        f"1 {medicine.sku} {medicine.full_name} -- 778 упак 2 100,00 200,00 без акциза 10 % "
        "20,00 220,00 643 РОССИЯ --",
        # the plaster: 3 × 120.00 = 360.00 with 22 % inside (64.92), in pieces, from China
        f"2 {plaster.sku} {plaster.full_name} -- 796 шт 3 98,36 295,08 без акциза 22 % "
        "64,92 360,00 156 КИТАЙ --",
        "Всего к оплате (9) 495,08 Х 84,92 580,00",
        "1 листе(ах)",
        "Руководитель организации",
        "Соколов А. В.",
        "Главный бухгалтер",
        "Мельникова Е. П.",
        "(подпись) (ф.и.о.)",
        "Индивидуальный",
        f"Основание передачи (сдачи) / получения (приемки) Заказ № {order.number} от",
        "Данные о транспортировке и грузе [9]",
        "Товар (груз) передал / услуги, результаты работ, права сдал [10]",
        "Генеральный директор Соколов А. В.",
        "(должность) (подпись) (ф.и.о.)",
        "Дата отгрузки, передачи (сдачи) «10» марта 2026 г. [11]",
        "Иные сведения об отгрузке, передаче",
        "Товар (груз) получил / услуги, результаты работ, права принял [15]",
        f"{order.user.full_name}",
        "Дата получения (приемки) «____» ______________ 20___ г. [16]",
        "Ответственный за правильность оформления факта хозяйственной жизни [13]",
        "Главный бухгалтер Мельникова Е. П.",
        "Ответственный за правильность оформления факта хозяйственной жизни [18]",
        "Наименование экономического субъекта – составителя документа (в т.ч. комиссионера",
        "ООО «Фарма-Газ Снабжение», ИНН/КПП 7729012342/772901001 [14]",
        f'ООО "Аптека Тест", ИНН/КПП {buyer.inn}/770101001 [19]',
        "М.П.",
    ]
    missing = [element for element in expected if element not in page]
    assert missing == [], page
    assert snapshot["totals"]["total"] == "580.00"


def test_the_figures_follow_the_billing_rounding(mixed_order):
    order, *_ = mixed_order
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    snapshot = primary.snapshot_of(the_upd(order))
    assert Decimal(snapshot["totals"]["vat"]) == shipment.vat_amount == Decimal("84.92")
    assert Decimal(snapshot["totals"]["total"]) == shipment.total == Decimal("580.00")
    assert snapshot["totals"]["vat_by_rate"] == {"10": "20.00", "22": "64.92"}
    assert [line["vat_text"] for line in snapshot["lines"]] == ["10\u00a0%", "22\u00a0%"]


@needs_pdftotext
def test_the_xlsx_has_the_figures_of_the_pdf(mixed_order, tmp_path):
    order, client, *_ = mixed_order
    document = the_upd(order)
    page = pdf_text(client.get(f"/settlements/documents/{document.id}/upd.pdf").data, tmp_path)
    with client.get(f"/settlements/documents/{document.id}/upd.xlsx") as response:
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    header = next(row for row in rows if row and row[0] == "№ п/п")
    start = rows.index(header) + 2
    lines = [row for row in rows[start:] if isinstance(row[0], int)]
    assert len(lines) == 2
    columns = ("Количество (объем)", "Цена (тариф) за единицу измерения")
    columns += ("Стоимость без налога — всего", "Сумма налога, предъявляемая покупателю")
    columns += ("Стоимость с налогом — всего",)
    for row in lines:
        figures = [row[header.index(name)] for name in columns]
        printed = " ".join(
            [str(figures[0])] + [f"{Decimal(str(v)):.2f}".replace(".", ",") for v in figures[1:]]
        )
        price, net, vat, total = printed.split()[1:]
        assert f"{figures[0]} {price} {net} без акциза" in page
        assert f"{vat} {total}" in page
        assert row[header.index("Налоговая ставка")] in {"10\u00a0%", "22\u00a0%"}
    total_row = next(row for row in rows if row and row[0] == "Всего к оплате (9)")
    assert [v for v in total_row if isinstance(v, int | float)] == [495.08, 84.92, 580]
    assert "Всего к оплате (9) 495,08 Х 84,92 580,00" in page
    assert any(row and row[0] == "Покупатель (6)" for row in rows)


@needs_pdftotext
def test_a_re_render_uses_only_the_snapshot(mixed_order, tmp_path):
    order, client, medicine, _plaster = mixed_order
    document = the_upd(order)
    url = f"/settlements/documents/{document.id}/upd.pdf"
    first = pdf_text(client.get(url).data, tmp_path, "first.pdf", layout=True)
    # The catalogue changes: price, name, unit, country; and the buyer moves.
    price = db.session.scalar(select(ItemPrice).where(ItemPrice.item_id == medicine.id))
    price.price = Decimal("999.00")
    medicine.trade_name = "Переименованный"
    medicine.okei_code = "796"
    order.organisation.legal_address = "Новый адрес"
    db.session.commit()
    second = pdf_text(client.get(url).data, tmp_path, "second.pdf", layout=True)
    assert first == second
    assert "Переименованный" not in second and "999,00" not in second
    # The snapshot is the only source: an altered one is refused, never printed.
    db.session.execute(
        text("UPDATE primary_documents SET snapshot = replace(snapshot, '580.00', '1.00')")
    )
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(primary.DocumentTampered):
        primary.snapshot_of(db.session.get(PrimaryDocument, document.id))


def test_an_issued_document_cannot_be_edited(mixed_order):
    order, *_ = mixed_order
    document = the_upd(order)
    document.snapshot = document.snapshot.replace("580.00", "1.00")
    with pytest.raises(primary.DocumentFrozen):
        db.session.flush()
    db.session.rollback()
    document = the_upd(order)
    document.number = 99
    with pytest.raises(primary.DocumentFrozen):
        db.session.flush()
    db.session.rollback()


def test_numbers_run_per_year_without_gaps_and_a_refused_issue_keeps_none(
    app, login_as, buyer, buyer_org, manager, tax_day, monkeypatch
):
    client = login_as(buyer)
    numbers = []
    for n, day in enumerate((date(2026, 3, 1), date(2026, 3, 2), date(2027, 1, 5))):
        tax_day(day)
        item = make_item(f"Препарат {n}", price="50.00")
        order = place(client, buyer_org, item, 1, key=f"k{n}" * 12)
        ship(app, manager, order)
        document = the_upd(order)
        numbers.append((document.year, document.number))
    assert numbers == [(2026, 1), (2026, 2), (2027, 1)]
    # A refused issue (a broken requisite) rolls its number back: the next one is 3.
    tax_day(date(2026, 3, 3))
    item = make_item("Препарат 4", price="50.00")
    order = place(client, buyer_org, item, 1, key="r" * 24)
    supplier = app.config["SUPPLIER"]
    monkeypatch.setitem(app.config, "SUPPLIER", {**supplier, "kpp": ""})
    staff = ship(app, manager, order)
    assert the_upd(order) is None
    monkeypatch.setitem(app.config, "SUPPLIER", supplier)
    staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    db.session.expire_all()
    assert (the_upd(order).year, the_upd(order).number) == (2026, 3)
    counter = db.session.get(DocumentCounter, ("upd", "", 2026))
    assert counter.last_number == 3


def test_a_missing_supplier_requisite_refuses_the_shipment_naming_the_field(
    app, login_as, buyer, buyer_org, manager, tax_day, monkeypatch
):
    tax_day(SHIP_DAY)
    item = make_item("Нурофен", price="110.00", stock=10)
    client = login_as(buyer)
    order = place(client, buyer_org, item, 2)
    monkeypatch.setitem(app.config, "SUPPLIER", {**app.config["SUPPLIER"], "accountant_name": " "})
    staff = app.test_client()
    login(staff, manager)
    for status in ("confirmed", "assembling"):
        staff.post(f"/backoffice/orders/{order.id}/status", data={"status": status})
    page = staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    assert page.status_code == 422
    assert "УПД не выписан" in page.get_data(as_text=True)
    assert "Ф. И. О. главного бухгалтера" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ASSEMBLING
    assert db.session.scalar(select(func.count(Shipment.id))) == 0
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 0


def test_no_upd_for_an_unshipped_order_nor_for_more_than_ordered(
    app, login_as, buyer, buyer_org, manager, tax_day
):
    tax_day(SHIP_DAY)
    item = make_item("Нурофен", price="110.00", stock=10)
    client = login_as(buyer)
    order = place(client, buyer_org, item, 2)
    staff = app.test_client()
    login(staff, manager)
    page = staff.post(f"/backoffice/orders/{order.id}/upd", follow_redirects=True)
    assert "не отгружен" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 0
    # More than ordered (a line changed behind the form's back) is refused with its name.
    order.lines[0].shipped_quantity = 5
    order.status = OrderStatus.ASSEMBLING
    with (
        app.test_request_context(),
        pytest.raises(UserError, match="больше заказанного"),
    ):
        workflow.change_status(order, "shipped", manager)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 0
    assert db.session.scalar(select(func.count(Shipment.id))) == 0


def test_another_organisations_document_is_404(app, mixed_order, other_pharmacy):
    order, *_ = mixed_order
    document = the_upd(order)
    outsider = app.test_client()
    login(outsider, make_user(other_pharmacy))
    for suffix in ("upd.pdf", "upd.xlsx"):
        with outsider.get(f"/settlements/documents/{document.id}/{suffix}") as response:
            assert response.status_code == 404
    month = outsider.get("/settlements/documents?month=2026-03").get_data(as_text=True)
    assert document.printed_number not in month or "no-documents" in month
    assert outsider.get("/settlements/documents/upd-month.zip?month=2026-03").status_code == 302


def test_the_order_documents_tab_links_every_document(mixed_order):
    order, client, *_ = mixed_order
    document = the_upd(order)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f"/orders/{order.id}/documents" in page
    tab = client.get(f"/orders/{order.id}/documents")
    assert tab.status_code == 200
    html = tab.get_data(as_text=True)
    for link in (
        f"/orders/{order.id}/invoice.pdf",
        f"/settlements/documents/{document.id}/upd.pdf",
        f"/settlements/documents/{document.id}/upd.xlsx",
        f"/orders/{order.id}/order.xlsx",
    ):
        assert link in html
        with client.get(link) as response:
            assert response.status_code == 200
    assert f"№ {document.printed_number} от 10.03.2026" in html


@needs_pdftotext
def test_the_month_list_and_its_zip(app, mixed_order, tmp_path, buyer_org):
    order, client, *_ = mixed_order
    document = the_upd(order)
    page = client.get("/settlements/documents?month=2026-03").get_data(as_text=True)
    assert f"УПД № {document.printed_number}" in page and "580,00" in page
    assert "upd-month.zip?month=2026-03" in page
    empty = client.get("/settlements/documents?month=2026-04").get_data(as_text=True)
    assert 'data-testid="no-documents"' in empty
    bad = client.get("/settlements/documents?month=2026-13")
    assert bad.status_code == 422
    assert "ГГГГ-ММ" in bad.get_data(as_text=True)
    with client.get("/settlements/documents/upd-month.zip?month=2026-03") as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert names[0] == f"upd-2026-{document.printed_number}.pdf"
    assert len(names) == 2 and names[1].startswith("ON_NSCHFDOPPR_")  # and its ФНС XML
    inside = pdf_text(archive.read(names[0]), tmp_path, "zipped.pdf")
    assert "Всего к оплате (9) 495,08 Х 84,92 580,00" in inside
    nothing = client.get("/settlements/documents/upd-month.zip?month=2026-04")
    assert nothing.status_code == 302


def test_a_member_without_prices_or_finance_gets_403(app, mixed_order, buyer_org):
    from portal.organisations.models import Power

    order, *_ = mixed_order
    document = the_upd(order)
    clerk = app.test_client()
    login(clerk, make_user(buyer_org, {Power.ORDER}))
    assert clerk.get(f"/settlements/documents/{document.id}/upd.pdf").status_code == 403


@pytest.mark.postgres
def test_fifty_concurrent_issues_get_fifty_consecutive_numbers(app):
    """Fifty transactions take a number at once on PostgreSQL: 1…50, none twice, no gap."""
    barrier = threading.Barrier(50)
    numbers, errors = [], []

    def issue():
        try:
            with app.app_context():  # a thread's own context: its own session and connection
                barrier.wait(timeout=30)
                numbers.append(primary.next_number("upd", "T", 2031))
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=issue) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert errors == []
    assert sorted(numbers) == list(range(1, 51))
    assert db.session.get(DocumentCounter, ("upd", "T", 2031)).last_number == 50


def test_a_gas_organisation_sees_an_empty_list(app, gas_org):
    client = app.test_client()
    login(client, make_user(gas_org))
    page = client.get("/settlements/documents")
    assert page.status_code == 200 and 'data-testid="no-documents"' in page.get_data(as_text=True)


def test_the_import_sets_the_unit_and_country_and_refuses_unknown_codes(app, admin):
    from portal.catalog.importer import import_catalog
    from portal.catalog.models import Item

    header = "sku;trade_name;окей;код страны\n"
    report = import_catalog(
        "items.csv", (header + "U1;Шприц;796;156\nU2;Бинт;;\n").encode(), on=SHIP_DAY
    )
    assert not report.rejected and report.created == 2
    codes = {
        row.sku: (row.okei_code, row.origin_country_code)
        for row in db.session.scalars(select(Item))
    }
    assert codes == {"U1": ("796", "156"), "U2": ("778", "643")}  # empty cells: the defaults
    bad = import_catalog("items.csv", (header + "U3;Вата;999;12a\n").encode(), on=SHIP_DAY)
    with app.test_request_context():
        assert "ОКЕИ" in str(bad.rejected[0].reason)
    assert db.session.scalar(select(func.count(Item.id))) == 2


def test_staff_issue_the_upd_of_a_shipment_recorded_before_numbering(app, mixed_order, manager):
    order, client, *_ = mixed_order
    # A shipment recorded before documents were numbered on their own has no УПД.
    db.session.delete(the_upd(order))
    db.session.commit()
    tab = client.get(f"/orders/{order.id}/documents").get_data(as_text=True)
    assert "УПД выпишет ваш менеджер" in tab
    staff = app.test_client()
    login(staff, manager)
    assert "Выписать УПД" in staff.get(f"/backoffice/orders/{order.id}").get_data(as_text=True)
    page = staff.post(f"/backoffice/orders/{order.id}/upd", follow_redirects=True)
    document = the_upd(order)
    assert document is not None and document.number == 2  # number 1 stays used
    assert f"УПД № {document.printed_number} выписан" in page.get_data(as_text=True)
    # A second request issues nothing new.
    staff.post(f"/backoffice/orders/{order.id}/upd")
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 1
    with staff.get(f"/backoffice/billing/documents/{document.id}/upd.pdf") as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_the_upd_issued_by_a_worker_takes_one_number_however_often_retried(
    app,
    mixed_order,
    manager,
    worker,  # noqa: F811 - the fixture imported above
):
    from portal.jobs.models import BackgroundJob

    order, *_ = mixed_order
    db.session.delete(the_upd(order))
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    answer = staff.post(f"/backoffice/orders/{order.id}/upd")
    assert answer.status_code == 302 and "/backoffice/jobs/" in answer.headers["Location"]
    assert the_upd(order) is None  # the worker has not run yet
    [job] = db.session.scalars(select(BackgroundJob)).all()
    assert job.kind == "documents" and job.status == "pending"
    worker()
    app.extensions["background_task"](job.id)  # the same job again: a retry
    worker()
    document = the_upd(order)
    assert document is not None and document.number == 2  # number 1 stays used
    assert db.session.scalar(select(func.count(PrimaryDocument.id))) == 1
    page = staff.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert f"УПД № {document.printed_number} выписан" in page
