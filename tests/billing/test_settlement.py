"""Monthly gas charges on the shared ledger, payments, adjustments, the bank statement import."""

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.billing import ledger
from portal.billing.models import GasCharge
from portal.extensions import db
from portal.metering.models import Tariff
from portal.organisations.models import Power
from tests.factories import login, make_user
from tests.metering.helpers import add_reading, make_contract, make_meter


def charged_contract(gas_org):
    """300 m³ in October 2026: 200 m³ before the tariff change on the 15th, 100 m³ after."""
    contract = make_contract(gas_org, number="ГП-7", price="8000.00")
    contract.tariffs.append(Tariff(valid_from=date(2026, 10, 15), price_per_thousand="9000.00"))
    first, second = make_meter(gas_org, contract), make_meter(gas_org, contract)
    add_reading(first, date(2026, 10, 10), 1200, consumption=200)
    add_reading(second, date(2026, 10, 20), 600, consumption=100)
    db.session.commit()
    return contract


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_charge_uses_tariff_in_force_plus_vat_and_is_idempotent(app, gas_org):
    contract = charged_contract(gas_org)
    run(app, "post-gas-charges", "--period", "2026-10")
    # 0.200 × 8000 = 1600.00 and 0.100 × 9000 = 900.00; VAT 22 % (31.10.2026) = 352 + 198.
    entry = db.session.scalar(select(ledger.LedgerEntry))
    assert entry.debit == Decimal("3050.00") and entry.vat_amount == Decimal("550.00")
    assert entry.contract_id == contract.id and entry.source_type == "gas_charge"
    run(app, "post-gas-charges", "--period", "2026-10")
    assert db.session.scalar(select(func.count(ledger.LedgerEntry.id))) == 1
    assert ledger.balance(gas_org.id) == Decimal("3050.00")


def test_changed_readings_post_a_recalculation_not_a_second_charge(app, gas_org):
    charged_contract(gas_org)
    run(app, "post-gas-charges", "--period", "2026-10")
    charge = db.session.scalar(select(GasCharge))
    reading = db.session.scalars(select(ledger.LedgerEntry)).first()
    assert reading is not None
    from portal.metering.models import Reading

    october = db.session.scalar(select(Reading).where(Reading.reading_date == date(2026, 10, 20)))
    october.consumption = Decimal("200")
    db.session.commit()
    output = run(app, "post-gas-charges", "--period", "2026-10")
    assert "recalculated 1098.00" in output  # +0.100 тыс. м³ × 9000 + VAT 22 %
    adjustment = db.session.scalar(
        select(ledger.LedgerEntry).where(ledger.LedgerEntry.kind == "adjustment")
    )
    # The recalculation carries its VAT (not 0): the month's VAT totals stay right.
    assert adjustment.debit == Decimal("1098.00") and adjustment.vat_amount == Decimal("198.00")
    db.session.refresh(charge)
    assert charge.total == Decimal("4148.00") and charge.vat_amount == Decimal("748.00")


def test_bad_period_is_a_clear_cli_error(app):
    result = app.test_cli_runner().invoke(args=["post-gas-charges", "--period", "10.2026"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_staff_enters_payment_and_customer_sees_balance(app, gas_org, manager, today):
    charged_contract(gas_org)
    run(app, "post-gas-charges", "--period", "2026-10")
    staff = app.test_client()
    login(staff, manager)
    url = f"/backoffice/billing/organisations/{gas_org.id}/payments"
    data = {"amount": "5000", "entry_date": "2026-11-10", "document_number": "77", "contract_id": 0}
    assert staff.post(url, data=data).status_code == 302
    again = staff.post(url, data=data)
    assert "уже учтена" in again.get_data(as_text=True)
    bad = staff.post(url, data={**data, "amount": "-3", "document_number": "78"})
    assert "больше нуля" in bad.get_data(as_text=True)
    assert ledger.balance(gas_org.id) == Decimal("-1950.00")

    customer = app.test_client()
    login(customer, make_user(gas_org, {Power.VIEW_FINANCE}))
    page = customer.get("/metering/account").get_data(as_text=True)
    assert "Переплата: 1\u202f950,00" in page and "№ 77" in page


def test_adjustment_needs_a_reason(app, gas_org, manager, today):
    staff = app.test_client()
    login(staff, manager)
    url = f"/backoffice/billing/organisations/{gas_org.id}/adjustments"
    data = {"amount": "-150", "entry_date": "2026-11-10", "reason": "", "contract_id": 0}
    assert staff.post(url, data=data).status_code == 422
    data["reason"] = "Компенсация за простой"
    assert staff.post(url, data=data).status_code == 302
    assert ledger.balance(gas_org.id) == Decimal("-150.00")


def statement(text):
    return {"file": (io.BytesIO(text.encode("utf-8")), "statement.csv")}


def test_bank_statement_import_is_all_or_nothing(app, gas_org, manager, today):
    staff = app.test_client()
    login(staff, manager)
    bad = (
        "payer_inn;amount;date;document_number\n"
        f"{gas_org.inn};1000,50;20.11.2026;501\n"
        "0000000000;10;20.11.2026;502\n"
        f"{gas_org.inn};сто;20.11.2026;503\n"
    )
    page = staff.post("/backoffice/billing/payments", data=statement(bad)).get_data(as_text=True)
    assert "Нет клиента с ИНН 0000000000" in page and "Сумма не является числом" in page
    assert ledger.balance(gas_org.id) == 0
    good = f"payer_inn;amount;date;document_number\n{gas_org.inn};1000,50;20.11.2026;501\n"
    page = staff.post(
        "/backoffice/billing/payments", data=statement(good), follow_redirects=True
    ).get_data(as_text=True)
    assert "Загружено оплат: 1" in page
    assert ledger.balance(gas_org.id) == Decimal("-1000.50")
    page = staff.post(
        "/backoffice/billing/payments", data=statement(good), follow_redirects=True
    ).get_data(as_text=True)
    assert "Эта оплата уже учтена" in page
    assert ledger.balance(gas_org.id) == Decimal("-1000.50")


def test_customer_cannot_reach_staff_money_pages(login_as, gas_user, gas_org):
    client = login_as(gas_user)
    assert client.get("/backoffice/billing/payments").status_code == 403
    url = f"/backoffice/billing/organisations/{gas_org.id}/payments"
    assert client.post(url, data={"amount": "1"}).status_code == 403
