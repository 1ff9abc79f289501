"""Receivables for managers: the aging report (buckets that add up to the ledger's balance),
the drill-down to documents, the XLSX export and who sees which organisation."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal.billing import ledger, receivables
from portal.billing.receivables import Bucket
from portal.extensions import db
from portal.money import format_rub
from tests.billing.receivable_builders import TODAY, aging_ledger, charge
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.usefixtures("gas_due_on_the_tenth")


def test_every_open_document_lands_in_its_bucket_and_the_buckets_add_up_to_the_balance(
    app, pharmacy
):
    aging_ledger(pharmacy)
    with app.test_request_context():
        row = receivables.aging_row(pharmacy, today=TODAY)
    assert row.buckets == {
        Bucket.CURRENT: Decimal("400.00"),
        Bucket.DAYS_1_30: Decimal("500.00"),
        Bucket.DAYS_31_60: Decimal("1234.56"),
        Bucket.DAYS_61_90: Decimal("456.78"),
        Bucket.OVER_90: Decimal("850.00"),
    }
    assert row.unallocated == Decimal("133.32")
    # To the kopeck: 3441.34 open less 133.32 in the customer's favour.
    assert ledger.balance(pharmacy.id) == Decimal("3308.02")
    assert row.balance == ledger.balance(pharmacy.id)
    assert row.overdue == Decimal("3041.34")


def test_due_dates_follow_the_payment_terms(app, pharmacy):
    orders = aging_ledger(pharmacy)
    documents = {d.number: d for d in receivables.open_documents(pharmacy.id, today=TODAY)}
    deferred = documents[orders["deferred"].number]
    assert (deferred.due_date.isoformat(), deferred.days_overdue) == ("2026-06-01", 14)
    prepaid = documents[orders["prepaid"].number]
    assert (prepaid.due_date.isoformat(), prepaid.days_overdue) == ("2026-06-10", 5)
    gas = documents["ГП-1/2026-03"]
    assert (gas.due_date.isoformat(), gas.days_overdue) == ("2026-04-10", 66)
    current = documents[orders["current"].number]
    assert current.due_date.isoformat() == "2026-07-01" and not current.is_overdue
    assert documents["ADJ-1"].open_amount == Decimal("850.00")


def test_buckets_add_up_for_many_organisations_and_payments_in_any_order(app, admin):
    from datetime import date, timedelta

    organisations = [make_organisation() for _ in range(3)]
    amounts = ["0.01", "1.99", "333.33", "1000.10", "77.07"]
    for index, organisation in enumerate(organisations):
        for step, amount in enumerate(amounts):
            day = date(2026, 1, 1) + timedelta(days=31 * step)
            charge(organisation, amount, day, f"{index}-{step}")
        ledger.post_payment(
            organisation.id,
            Decimal("750.00") * index + Decimal("0.03"),
            entry_date=date(2026, 3, 3),
            description="Оплата",
            document_number=f"П-{index}",
        )
    db.session.commit()
    report = receivables.aging_report(admin, today=TODAY)
    assert len(report.rows) == 3
    for row in report.rows:
        assert row.balance == ledger.balance(row.organisation.id)
    assert report.totals.balance == sum(ledger.balance(o.id) for o in organisations)
    # The third one paid more than it owed: the rest is credit, not a negative bucket.
    richest = next(row for row in report.rows if row.organisation.id == organisations[2].id)
    assert all(amount >= 0 for amount in richest.buckets.values())
    assert richest.unallocated == Decimal("1500.03") - Decimal("1412.50")
    assert richest.open_total == 0 and richest.balance == Decimal("-87.53")


def _assigned(manager):
    mine = make_organisation(name='ООО "Моя аптека"', manager_id=manager.id)
    someone_else = make_user(staff_role="manager")
    theirs = make_organisation(name='ООО "Чужой клиент"', manager_id=someone_else.id)
    aging_ledger(mine)
    charge(theirs, "5000.00", TODAY, "Ч-1")
    db.session.commit()
    return mine, theirs


def test_a_manager_sees_only_their_organisations_and_drills_down_to_documents(
    login_as, manager, tax_day
):
    tax_day(TODAY)
    mine, theirs = _assigned(manager)
    client = login_as(manager)
    page = client.get("/backoffice/billing/receivables").get_data(as_text=True)
    assert "Моя аптека" in page and "Чужой клиент" not in page
    assert format_rub("850.00") in page and "−" + format_rub("133.32") in page
    assert format_rub("3308.02") in page
    drill = client.get(f"/backoffice/billing/receivables/{mine.id}?bucket=61-90")
    assert drill.status_code == 200
    text = drill.get_data(as_text=True)
    assert "ГП-1/2026-03" in text and "ГП-1/2026-04" not in text and "10.04.2026" in text
    everything = client.get(f"/backoffice/billing/receivables/{mine.id}").get_data(as_text=True)
    order = db.session.scalar(db.select(db.text("id")).select_from(db.text("orders")).limit(1))
    assert f"/backoffice/orders/{order}" in everything
    assert client.get(f"/backoffice/billing/receivables/{theirs.id}").status_code == 404
    assert client.get(f"/backoffice/billing/receivables/{mine.id}?bucket=7-8").status_code == 404


def test_an_admin_sees_every_organisation(login_as, manager, admin, tax_day):
    tax_day(TODAY)
    _mine, theirs = _assigned(manager)
    client = login_as(admin)
    page = client.get("/backoffice/billing/receivables").get_data(as_text=True)
    assert "Моя аптека" in page and "Чужой клиент" in page
    assert client.get(f"/backoffice/billing/receivables/{theirs.id}").status_code == 200


def test_customers_cannot_open_the_report(login_as, buyer):
    client = login_as(buyer)
    assert client.get("/backoffice/billing/receivables").status_code == 403
    assert client.get("/backoffice/billing/receivables.xlsx").status_code == 403


def test_xlsx_has_a_frozen_header_numbers_as_numbers_and_totals(login_as, manager, tax_day):
    tax_day(TODAY)
    mine, _theirs = _assigned(manager)
    response = login_as(manager).get("/backoffice/billing/receivables.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "C2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Организация", "ИНН", "Срок не наступил")
    assert rows[1][0] == mine.legal_name and rows[1][1] == mine.inn
    values = rows[1][2:9]
    assert all(isinstance(value, float | int) for value in values)
    assert [round(v, 2) for v in values] == [400.0, 500.0, 1234.56, 456.78, 850.0, -133.32, 3308.02]
    assert rows[2][0] == "Итого" and round(rows[2][8], 2) == 3308.02
    assert all(r[0] != 'ООО "Чужой клиент"' for r in rows)
    assert sheet.cell(row=2, column=3).number_format.startswith("#,##0.00")
