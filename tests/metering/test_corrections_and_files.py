"""Corrections (customer in the window, staff with a reason), XLSX template round trip."""

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.metering.models import Reading, ReadingCorrection, ReadingSource
from tests.factories import login
from tests.metering.conftest import AFTER_WINDOW
from tests.metering.helpers import add_reading


def november_reading(meter, value=5500):
    reading = add_reading(meter, date(2026, 11, 21), value, consumption=value - 5000)
    db.session.commit()
    return reading


def test_customer_corrects_in_window_and_history_shows_it(login_as, gas_user, meters, today):
    reading = november_reading(meters[0])
    client = login_as(gas_user)
    response = client.post(f"/metering/readings/{reading.id}/correct", data={"value": "5450"})
    assert response.status_code == 302
    db.session.refresh(reading)
    assert reading.value == Decimal("5450") and reading.consumption == Decimal("450")
    history = client.get(f"/metering/meters/{meters[0].id}").get_data(as_text=True)
    assert "5\u00a0500 → 5\u00a0450" in history


def test_customer_cannot_correct_after_window(login_as, gas_user, meters, today):
    reading = november_reading(meters[0])
    today(AFTER_WINDOW)
    client = login_as(gas_user)
    page = client.post(f"/metering/readings/{reading.id}/correct", data={"value": "5450"})
    assert "обратитесь к персональному менеджеру" in page.get_data(as_text=True)
    db.session.refresh(reading)
    assert reading.value == Decimal("5500")
    assert db.session.scalar(select(func.count(ReadingCorrection.id))) == 0


def test_staff_correction_needs_reason_and_is_audited(app, manager, meters, today):
    reading = november_reading(meters[0])
    today(AFTER_WINDOW)
    staff = app.test_client()
    login(staff, manager)
    url = f"/backoffice/metering/readings/{reading.id}/correct"
    page = staff.post(url, data={"value": "5400", "reason": ""}).get_data(as_text=True)
    assert "Укажите причину исправления" in page
    response = staff.post(url, data={"value": "5400", "reason": "Фото показало 5400"})
    assert response.status_code == 302
    db.session.refresh(reading)
    assert reading.value == Decimal("5400") and reading.source == ReadingSource.STAFF
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "metering.reading_corrected")
    )
    assert event.actor_id == manager.id and event.details["reason"] == "Фото показало 5400"


def test_correction_keeps_the_next_reading_consistent(app, manager, meters, today, in_request):
    from portal.errors import UserError
    from portal.metering import corrections

    first = meters[0]
    october = db.session.scalar(
        select(Reading).where(
            Reading.metering_point_id == first.id, Reading.reading_date == date(2026, 10, 22)
        )
    )
    november_reading(first)
    try:
        corrections.correct_reading(october, "5600", manager, reason="опечатка", by_staff=True)
    except UserError as error:
        assert "меньше предыдущего" in str(error.message)
    else:
        raise AssertionError("a correction above the next reading was accepted")


def template_rows(client):
    response = client.get("/metering/readings/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def to_xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def upload(client, rows, reading_date="2026-11-22"):
    return client.post(
        "/metering/readings/upload",
        data={"reading_date": reading_date, "file": (to_xlsx(rows), "readings.xlsx")},
    )


def test_template_round_trip_saves_readings(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    assert rows[1][0] == "SN-1" and rows[1][4] == 5000
    rows[1][5], rows[2][5] = 5300, "5400,5"
    assert upload(client, rows).status_code == 302
    saved = db.session.scalars(select(Reading).where(Reading.source == ReadingSource.FILE)).all()
    assert sorted(r.value for r in saved) == [Decimal("5300"), Decimal("5400.5")]


def test_unknown_serial_refuses_the_file(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    rows[1][5] = 5300
    rows.append(["NOPE-9", "", "", None, None, 100, None])
    page = upload(client, rows).get_data(as_text=True)
    assert "Неизвестные заводские номера счётчиков: NOPE-9 (строка 4)" in page
    assert db.session.scalar(select(func.count(Reading.id))) == 6


def test_changed_template_refuses_the_file(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    rows[0][5] = "Показание"
    rows[1][5] = 5300
    page = upload(client, rows).get_data(as_text=True)
    assert "Столбцы файла отличаются от шаблона" in page
    not_xlsx = client.post(
        "/metering/readings/upload",
        data={"reading_date": "2026-11-22", "file": (io.BytesIO(b"a;b"), "x.xlsx")},
    )
    assert "не является книгой XLSX" in not_xlsx.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Reading.id))) == 6


def test_bad_value_in_file_names_the_row(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    rows[1][5], rows[2][5] = 5300, 10
    page = upload(client, rows).get_data(as_text=True)
    assert "Строка 3, счётчик SN-2" in page and "меньше предыдущего" in page
    assert db.session.scalar(select(func.count(Reading.id))) == 6
