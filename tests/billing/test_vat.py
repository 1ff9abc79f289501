"""VAT as dated data: the rate of the document's tax date, per line, to the kopeck.

General 20 % until 31.12.2025 and 22 % from 01.01.2026; reduced 10 % (medicines). Shipments
charge what shipped; corrections of documents taxed at an old rate post once.
"""

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from portal.audit import AuditEvent
from portal.billing import ledger, primary, tax, upd_of_order
from portal.billing.models import (
    GasCharge,
    LedgerEntry,
    PrimaryDocument,
    Shipment,
    ShipmentLine,
    VatRate,
)
from portal.billing.requisites import requisite_problems
from portal.catalog.importer import import_catalog
from portal.errors import UserError
from portal.extensions import db
from portal.metering.models import Reading
from portal.money import taxed_line_from_gross, taxed_line_from_net
from tests.catalog.builders import make_item
from tests.factories import login
from tests.metering.helpers import add_reading, make_contract, make_meter
from tests.orders.test_orders import place


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def ship(app, manager, order, shipped=None):
    staff = app.test_client()
    login(staff, manager)
    for status in ("confirmed", "assembling"):
        staff.post(f"/backoffice/orders/{order.id}/status", data={"status": status})
    if shipped is not None:
        data = {
            f"shipped-{line.id}": str(count)
            for line, count in zip(order.lines, shipped, strict=True)
        }
        staff.post(f"/backoffice/orders/{order.id}/shipped", data=data)
    staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    db.session.expire_all()
    return staff


# --- the rule and the rates ---------------------------------------------------------------


def test_the_line_rule_rounds_each_line_to_the_kopeck():
    assert taxed_line_from_gross(Decimal("120.00"), 22).vat == Decimal("21.64")
    assert taxed_line_from_gross(Decimal("120.00"), 20).vat == Decimal("20.00")
    line = taxed_line_from_net(Decimal("1234.57"), 22)
    assert (line.vat, line.gross) == (Decimal("271.61"), Decimal("1506.18"))


def test_rates_are_resolved_by_the_tax_date():
    assert tax.rate_on("general", date(2025, 12, 31)) == 20
    assert tax.rate_on("general", date(2026, 1, 1)) == 22
    assert tax.rate_on("reduced", date(2026, 1, 1)) == 10
    assert tax.category_for_rate("22", date(2026, 5, 1)) == "general"
    assert tax.category_for_rate("20", date(2026, 5, 1)) is None
    assert tax.category_for_rate("20", date(2025, 5, 1)) == "general"


def test_an_overlapping_rate_is_refused_and_a_new_one_closes_the_open_rate(app, login_as, admin):
    client = login_as(admin)
    page = client.post(
        "/backoffice/billing/vat-rates",
        data={"category": "general", "rate": "25", "valid_from": "2025-06-01"},
    )
    assert page.status_code == 422
    assert "пересекается со ставкой 20 %" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(VatRate.id))) == 5
    done = client.post(
        "/backoffice/billing/vat-rates",
        data={"category": "general", "rate": "24", "valid_from": "2028-01-01"},
    )
    assert done.status_code == 302
    assert tax.rate_on("general", date(2027, 12, 31)) == 22
    assert tax.rate_on("general", date(2028, 1, 1)) == 24
    assert "billing.vat_rate_added" in db.session.scalars(select(AuditEvent.action)).all()
    assert "24" in client.get("/backoffice/billing/vat-rates").get_data(as_text=True)


def test_only_an_administrator_adds_rates(app, login_as, manager):
    assert login_as(manager).get("/backoffice/billing/vat-rates").status_code == 403
    with app.test_request_context(), pytest.raises(UserError):
        tax.add_rate("general", "120", date(2030, 1, 1), None)


# --- goods: cart, order, invoice, shipment ---------------------------------------------------


@pytest.mark.parametrize(
    ("day", "general_vat", "total_vat"),
    [
        # 2 × 110.00 at 10 % = 20.00 inside; 120.00 at 20 % = 20.00 inside.
        (date(2025, 11, 10), Decimal("20.00"), Decimal("40.00")),
        # ... at 22 % = 21.64 inside (120 × 22 / 122 = 21.639…).
        (date(2026, 2, 10), Decimal("21.64"), Decimal("41.64")),
    ],
)
def test_order_and_shipment_vat_in_2025_and_2026(
    app, login_as, buyer, pharmacy, manager, tax_day, day, general_vat, total_vat
):
    tax_day(day)
    medicine = make_item("Нурофен", price="110.00", vat="reduced")
    plaster = make_item("Пластырь", price="120.00", vat="general")
    client = login_as(buyer)
    client.post("/cart/add", data={"item_id": medicine.id, "quantity": 2})
    order = place(client, pharmacy, plaster, 1)
    assert order.total == Decimal("340.00") and order.vat_total == total_vat
    assert {line.sku: line.vat_rate for line in order.lines} == {
        medicine.sku: 10,
        plaster.sku: 20 if day.year == 2025 else 22,
    }
    ship(app, manager, order)
    shipment = db.session.scalar(select(Shipment))
    assert shipment.total == Decimal("340.00") and shipment.vat_amount == total_vat
    assert [line.vat_amount for line in shipment.lines] == [Decimal("20.00"), general_vat]
    entry = ledger.entries(pharmacy.id)[0]
    assert entry.debit == Decimal("340.00") and entry.vat_amount == total_vat
    upd = primary.upd_of_order(order.id)
    assert entry.entry_date == day and entry.document_number == order.number
    assert entry.description == (
        f"Отгрузка (УПД) № {upd.printed_number} от {day:%d.%m.%Y}, заказ № {order.number}"
    )


def test_partial_shipment_charges_what_shipped_and_the_invoice_stays_ordered(
    app, login_as, buyer, pharmacy, manager, tax_day, tmp_path
):
    tax_day(date(2026, 3, 2))
    item = make_item("Пластырь", price="120.00", vat="general", stock=10)
    client = login_as(buyer)
    order = place(client, pharmacy, item, 5)  # 600.00 ordered
    ship(app, manager, order, shipped=[3])  # 360.00 shipped
    shipment = db.session.scalar(select(Shipment))
    assert shipment.total == Decimal("360.00") and shipment.vat_amount == Decimal("64.92")
    assert ledger.balance(pharmacy.id) == Decimal("360.00")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "600,00" in page and "360,00" in page
    assert 'data-testid="shipped-total">360,00' in page
    assert 'data-testid="charged-total">360,00' in page
    assert 'data-testid="ordered-total">600,00' in page

    with client.get(f"/orders/{order.id}/order.xlsx") as response:
        rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    header = next(row for row in rows if row and row[0] == "№")
    line = rows[rows.index(header) + 1]
    assert line[header.index("Заказано")] == 5 and line[header.index("Отгружено")] == 3
    assert line[header.index("Сумма заказа")] == 600 and line[header.index("Сумма отгрузки")] == 360

    if shutil.which("pdftotext"):
        path = tmp_path / "invoice.pdf"
        path.write_bytes(client.get(f"/orders/{order.id}/invoice.pdf").data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
        text = " ".join(text.stdout.split())
        assert "Итого: 600,00" in text and "В том числе НДС 22%: 108,20" in text
        assert "Счёт выставлен на заказанное количество" in text
        # The УПД by its own number (not the order's): the one the buyer books.
        upd = upd_of_order(order.id)
        assert f"УПД № {upd.printed_number}" in text and "360,00" in text
        assert upd.printed_number != shipment.number
        assert "Соколов А. В." in text and "Главный бухгалтер" in text


# --- gas ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "vat"),
    [
        # 1.235 тыс. м³ (1234.5 m³ rounded to three decimals) × 8 123.45 = 10 032.46; VAT 20 %.
        ("2025-10", Decimal("2006.49")),
        # ... VAT 22 % from 2026.
        ("2026-10", Decimal("2207.14")),
    ],
)
def test_gas_month_is_one_line_in_thousands_of_m3_at_the_rate_of_its_last_day(
    app, gas_org, period, vat
):
    year, month = map(int, period.split("-"))
    contract = make_contract(gas_org, number="ГП-9", price="8123.45")
    first, second = make_meter(gas_org, contract), make_meter(gas_org, contract)
    add_reading(first, date(year, month, 21), 1000, consumption=Decimal("1000.2"))
    add_reading(second, date(year, month, 22), 500, consumption=Decimal("234.3"))
    db.session.commit()
    cli(app, "post-gas-charges", "--period", period)
    charge = db.session.scalar(select(GasCharge))
    assert charge.net_amount == Decimal("10032.46") and charge.vat_amount == vat
    entry = db.session.scalar(select(LedgerEntry))
    assert entry.debit == Decimal("10032.46") + vat and entry.vat_amount == vat


# --- corrections ----------------------------------------------------------------------------


def test_vat_correction_posts_once_per_month_and_shipment_and_says_why(
    app, gas_org, pharmacy, login_as, buyer, manager, tax_day
):
    # A gas month and a shipment of 2026 charged at the old 20 %, as before rates were dated.
    contract = make_contract(gas_org, number="ГП-52-0001/26", price="8000.00")
    meter = make_meter(gas_org, contract)
    add_reading(meter, date(2026, 1, 22), 1000, consumption=Decimal("1000"))
    db.session.commit()
    cli(app, "post-gas-charges", "--period", "2026-01")
    charge = db.session.scalar(select(GasCharge))
    entry = db.session.scalar(select(LedgerEntry))
    charge.vat_amount = entry.vat_amount = Decimal("1600.00")
    charge.total = entry.debit = Decimal("9600.00")
    charge.vat_rate = Decimal("20")
    db.session.commit()
    tax_day(date(2026, 2, 5))
    order = place(
        login_as(buyer), pharmacy, make_item("Пластырь", price="120.00", vat="general"), 1
    )
    ship(app, manager, order)
    # Shipped the old way: no shipment document (nor its УПД), the charge's VAT at 20 %.
    db.session.execute(delete(PrimaryDocument))
    db.session.execute(delete(ShipmentLine))
    db.session.execute(delete(Shipment))
    shipped = db.session.scalar(select(LedgerEntry).where(LedgerEntry.source_type == "order"))
    shipped.vat_amount = Decimal("20.00")
    order.lines[0].vat_rate = Decimal("20")
    db.session.commit()

    first = cli(app, "correct-vat", "--from", "2026-01-01", "--to", "2026-02-28")
    assert "Posted: 2 correction(s)" in first
    gas_fix = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.source_type == "gas_vat_correction")
    )
    # 8 000.00 × 22 % = 1 760.00 instead of 1 600.00.
    assert gas_fix.debit == gas_fix.vat_amount == Decimal("160.00")
    assert gas_fix.contract_id == contract.id
    assert "ставка НДС 22 %, было начислено по ставке 20 %" in gas_fix.description
    goods_fix = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.source_type == "shipment_vat_correction")
    )
    # Net 100.00 stays: VAT 22.00 instead of 20.00.
    assert goods_fix.debit == goods_fix.vat_amount == Decimal("2.00")
    assert f"УПД № {order.number}" in goods_fix.description

    again = cli(app, "correct-vat", "--from", "2026-01-01", "--to", "2026-02-28")
    assert "Posted: 0 correction(s)" in again and again.count("уже исправлено") == 2
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 4
    assert db.session.scalars(select(AuditEvent.action)).all().count("billing.vat_corrected") == 2
    # The month now bears 22 %: a rerun of the charges posts nothing more.
    assert "unchanged" in cli(app, "post-gas-charges", "--period", "2026-01")


def test_importer_reads_categories_and_the_rates_of_the_row_date(app, admin):
    header = "sku;trade_name;vat\n"
    rows = "V1;Нурофен;10\nV2;Пластырь;22\nV3;Тонометр;без НДС\nV4;Бинт;general\n"
    report = import_catalog("items.csv", (header + rows).encode(), on=date(2026, 3, 1))
    assert not report.rejected and report.created == 4
    from portal.catalog.models import Item

    categories = dict(db.session.execute(select(Item.sku, Item.vat_category)).all())
    assert categories == {"V1": "reduced", "V2": "general", "V3": "without", "V4": "general"}
    # 20 % was the general rate in 2025 but is no rate at all in 2026: the row is refused.
    file = (header + "V5;Шприц;20\n").encode()
    assert not import_catalog("items.csv", file, on=date(2025, 3, 1), dry_run=True).rejected
    late = import_catalog("items.csv", file, on=date(2026, 3, 1))
    with app.test_request_context():
        reason = str(late.rejected[0].reason)
    assert "ни категория" in reason and "01.03.2026" in reason


def test_the_demo_supplier_requisites_are_valid_and_fictional(app):
    supplier = app.config["SUPPLIER"]
    assert requisite_problems(supplier) == []
    assert supplier["inn"] != "7707083893"  # a real company's INN was the demo default
    assert requisite_problems({**supplier, "inn": "7729012341"})


def test_reading_correction_recalculation_keeps_vat_totals(app, gas_org):
    contract = make_contract(gas_org, number="ГП-10", price="9000.00")
    meter = make_meter(gas_org, contract)
    reading = add_reading(meter, date(2026, 10, 22), 1000, consumption=Decimal("1000"))
    db.session.commit()
    cli(app, "post-gas-charges", "--period", "2026-10")
    db.session.get(Reading, reading.id).consumption = Decimal("1100")
    db.session.commit()
    cli(app, "post-gas-charges", "--period", "2026-10")
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert sum(e.vat_amount for e in entries) == db.session.scalar(select(GasCharge.vat_amount))
    assert sum(e.vat_amount for e in entries) == Decimal("2178.00")  # 9 900.00 × 22 %
