"""Readings and amounts no person means (40 digits, «٣», «²», exponents): a message, nothing
saved, never a 500 and never «٣» silently read as 3."""

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.billing import ledger
from portal.extensions import db
from portal.metering.models import Reading
from tests.factories import login
from tests.metering.test_corrections_and_files import template_rows, upload
from tests.metering.test_readings_form import submit


def reading_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Reading.id)))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9" * 40, "Введите не больше 11 цифр до запятой."),
        ("9" * 5000, "Слишком длинное число."),
        ("٣٠٠٠", "Введите число цифрами 0–9."),
        ("5²", "Введите число цифрами 0–9."),
        ("①", "Введите число цифрами 0–9."),
        ("1e999999", "Введите показание числом"),
        ("5_600", "Введите показание числом"),
    ],
)
def test_reading_form_refuses_odd_numbers(login_as, gas_user, meters, today, value, message):
    before = reading_count()
    response = submit(login_as(gas_user), {meters[0]: value})
    assert response.status_code in (200, 400, 422)
    assert message in response.get_data(as_text=True)
    assert reading_count() == before


def test_readings_file_with_arabic_indic_digits_names_the_row(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    before = reading_count()
    rows[1][5], rows[2][5] = "٥٣٠٠", "9" * 40
    page = upload(client, rows).get_data(as_text=True)
    assert "Строка 2, счётчик SN-1" in page and "Введите число цифрами 0–9." in page
    assert "Строка 3, счётчик SN-2" in page and "не больше 11 цифр до запятой" in page
    assert reading_count() == before


@pytest.mark.parametrize("amount", ["1e999999", "9" * 40, "٣٠٠", "²", "1_000"])
def test_staff_amounts_refuse_odd_numbers(app, gas_org, manager, today, amount):
    staff = app.test_client()
    login(staff, manager)
    base = f"/backoffice/billing/organisations/{gas_org.id}"
    fields = {"amount": amount, "entry_date": "2026-11-10", "contract_id": 0}
    payment = staff.post(f"{base}/payments", data={**fields, "document_number": "7"})
    assert payment.status_code in (200, 400, 422)
    adjustment = staff.post(
        f"{base}/adjustments",
        data={**fields, "reason": "x"},
    )
    assert adjustment.status_code in (200, 400, 422)
    assert "Введите сумму числом." in adjustment.get_data(as_text=True)
    assert ledger.balance(gas_org.id) == Decimal("0")


def test_bank_statement_amount_in_arabic_indic_digits_is_refused(app, gas_org, manager, today):
    staff = app.test_client()
    login(staff, manager)
    text = f"payer_inn;amount;date;document_number\n{gas_org.inn};٣٠٠;20.11.2026;501\n"
    page = staff.post(
        "/backoffice/billing/payments",
        data={"file": (io.BytesIO(text.encode()), "statement.csv")},
    ).get_data(as_text=True)
    assert "Сумма не является числом." in page
    assert ledger.balance(gas_org.id) == Decimal("0")
