"""A refused post answers 422 and writes nothing: the request's transaction is rolled back."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.metering import submission
from portal.metering.models import Reading, ReadingCorrection
from tests.factories import login
from tests.metering.conftest import AFTER_WINDOW
from tests.metering.helpers import add_reading
from tests.metering.test_corrections_and_files import template_rows, upload
from tests.metering.test_readings_form import submit


def counts():
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Reading, ReadingCorrection, AuditEvent)
    )


def test_refused_reading_answers_422_and_saves_nothing(login_as, gas_user, meters, today):
    first, second = meters
    client = login_as(gas_user)
    before = counts()
    response = submit(client, {first: "4990", second: "5600"})
    assert response.status_code == 422
    assert 'class="invalid-feedback"' in response.get_data(as_text=True)
    assert counts() == before


def test_reading_saved_meanwhile_by_someone_else_is_refused_not_a_500(
    login_as, gas_user, meters, today, monkeypatch
):
    """The month's reading arrives between the checks and the INSERT (another tab)."""
    first, second = meters
    state = submission._submission_state

    def checked_before_the_other_tab_saved(organisation_id, meter_ids, reading_date):
        found = state(organisation_id, meter_ids, reading_date)
        add_reading(first, date(2026, 11, 21), 5100, consumption=100)
        return found

    monkeypatch.setattr(submission, "_submission_state", checked_before_the_other_tab_saved)
    client = login_as(gas_user)
    response = submit(client, {first: "5600", second: "5700"})
    assert response.status_code == 422
    assert "только что передал другой пользователь" in response.get_data(as_text=True)
    db.session.expire_all()
    november = select(Reading.value).where(Reading.period == date(2026, 11, 1))
    # Neither the second meter's line nor the other tab's reading (same request) was kept.
    assert db.session.scalars(november).all() == []


def test_refused_customer_correction_answers_422(login_as, gas_user, meters, today):
    reading = add_reading(meters[0], date(2026, 11, 21), 5500, consumption=500)
    db.session.commit()
    client = login_as(gas_user)
    before = counts()
    url = f"/metering/readings/{reading.id}/correct"
    same = client.post(url, data={"value": "5500"})
    assert same.status_code == 422 and "совпадает с текущим" in same.get_data(as_text=True)
    today(AFTER_WINDOW)
    closed = client.post(url, data={"value": "5450"})
    assert closed.status_code == 422
    assert counts() == before
    db.session.refresh(reading)
    assert reading.value == Decimal("5500")


def test_refused_staff_correction_answers_422(app, manager, meters, today):
    reading = add_reading(meters[0], date(2026, 11, 21), 5500, consumption=500)
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    before = counts()
    url = f"/backoffice/metering/readings/{reading.id}/correct"
    response = staff.post(url, data={"value": "5400", "reason": ""})
    assert response.status_code == 422
    assert counts() == before


def test_refused_template_upload_answers_422_and_saves_nothing(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    rows = template_rows(client)
    before = counts()
    rows[1][5], rows[2][5] = 5300, 10  # the second is below its previous reading
    response = upload(client, rows)
    assert response.status_code == 422
    assert "Строка 3, счётчик SN-2" in response.get_data(as_text=True)
    assert counts() == before


def test_valid_pages_still_answer_200(login_as, gas_user, meters, today):
    client = login_as(gas_user)
    assert client.get("/metering/readings").status_code == 200
    assert client.get("/metering/readings/upload").status_code == 200
