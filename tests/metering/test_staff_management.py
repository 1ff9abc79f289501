"""Staff manage gas contracts, tariffs and metering points of the organisations they curate."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import StaffRole
from portal.audit import AuditEvent
from portal.billing.gas import post_gas_charges
from portal.billing.models import GasCharge
from portal.extensions import db
from portal.metering import readings, registry
from portal.metering.models import Contract, MeteringPoint, Reading, Tariff
from tests.factories import login, make_organisation, make_user
from tests.metering.helpers import add_reading, links, make_contract, make_meter


@pytest.fixture
def staff(app, manager, gas_org):
    gas_org.manager_id = manager.id
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    return client


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def actions():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def text(response):
    return response.get_data(as_text=True)


CONTRACT = {
    "number": "ГП-100",
    "start_date": "2026-01-01",
    "end_date": "2027-12-31",
    "price_per_thousand": "8500,50",
}


def test_manager_creates_contract_with_first_tariff(staff, gas_org, manager, today):
    page = staff.get(f"/backoffice/metering/organisations/{gas_org.id}")
    assert f"/backoffice/metering/organisations/{gas_org.id}/contracts/new" in text(page)
    response = staff.post(
        f"/backoffice/metering/organisations/{gas_org.id}/contracts/new", data=CONTRACT
    )
    assert response.status_code == 302
    contract = db.session.scalar(select(Contract))
    assert contract.organisation_id == gas_org.id and contract.end_date == date(2027, 12, 31)
    assert [(t.valid_from, t.price_per_thousand) for t in contract.tariffs] == [
        (date(2026, 1, 1), Decimal("8500.50"))
    ]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("metering.%")))
    assert event.action == "metering.contract_created" and event.actor_id == manager.id
    assert event.organisation_id == gas_org.id


@pytest.mark.parametrize(
    "change, message",
    [
        ({"end_date": "2025-12-31"}, "Дата окончания не может быть раньше даты начала"),
        ({"number": " ГП-7 "}, "Договор с таким номером уже существует"),
        ({"price_per_thousand": "дорого"}, "Укажите цену числом"),
        ({"price_per_thousand": "-1"}, "Цена должна быть больше нуля"),
        ({"start_date": "01.01.2026"}, "Not a valid date value"),
    ],
)
def test_bad_contract_is_refused_next_to_the_field(staff, gas_org, today, change, message):
    make_contract(gas_org, number="ГП-7")
    db.session.commit()
    before = count(Contract), count(Tariff), count(AuditEvent)
    url = f"/backoffice/metering/organisations/{gas_org.id}/contracts/new"
    response = staff.post(url, data={**CONTRACT, **change})
    assert response.status_code == 422
    if message != "Not a valid date value":
        assert message in text(response) and "invalid-feedback" in text(response)
    assert (count(Contract), count(Tariff), count(AuditEvent)) == before


def test_manager_edits_contract_and_the_change_is_audited(staff, gas_org, today):
    contract = make_contract(gas_org, number="ГП-1", since=date(2026, 1, 1))
    make_contract(gas_org, number="ГП-2")
    db.session.commit()
    url = f"/backoffice/metering/contracts/{contract.id}/edit"
    assert "ГП-1" in text(staff.get(url))
    taken = staff.post(url, data={"number": "ГП-2", "start_date": "2026-01-01"})
    assert taken.status_code == 422 and "Договор с таким номером уже существует" in text(taken)
    later = staff.post(url, data={"number": "ГП-1", "start_date": "2026-03-01"})
    assert later.status_code == 422 and "не может начинаться позже" in text(later)
    saved = staff.post(
        url, data={"number": "ГП-1/26", "start_date": "2026-01-01", "end_date": "2026-12-31"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    assert contract.number == "ГП-1/26" and contract.end_date == date(2026, 12, 31)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "metering.contract_updated")
    )
    assert event.details["number"] == ["ГП-1", "ГП-1/26"]


def test_tariff_history_is_kept_and_charged_months_cannot_change(app, staff, gas_org, today):
    contract = make_contract(gas_org, number="ГП-5", price="8000.00", since=date(2026, 1, 1))
    meter = make_meter(gas_org, contract)
    add_reading(meter, date(2026, 9, 22), 1000)
    add_reading(meter, date(2026, 10, 22), 1500, consumption=500)
    db.session.commit()
    with app.test_request_context():
        post_gas_charges(date(2026, 10, 1))
        db.session.commit()
    assert count(GasCharge) == 1
    url = f"/backoffice/metering/contracts/{contract.id}/tariffs"

    retroactive = staff.post(url, data={"valid_from": "2026-10-15", "price_per_thousand": "9000"})
    assert retroactive.status_code == 422
    assert "уже начислено" in text(retroactive) and "01.11.2026" in text(retroactive)
    before_start = staff.post(url, data={"valid_from": "2025-06-01", "price_per_thousand": "1"})
    assert before_start.status_code == 422
    assert count(Tariff) == 1

    added = staff.post(url, data={"valid_from": "2026-11-01", "price_per_thousand": "9000"})
    assert added.status_code == 302
    same_day = staff.post(url, data={"valid_from": "2026-11-01", "price_per_thousand": "9500"})
    assert same_day.status_code == 422 and "уже есть тариф" in text(same_day)
    db.session.expire_all()
    prices = [
        (t.valid_from, t.price_per_thousand) for t in db.session.get(Contract, contract.id).tariffs
    ]
    assert prices == [
        (date(2026, 1, 1), Decimal("8000.00")),
        (date(2026, 11, 1), Decimal("9000.00")),
    ]
    assert "metering.tariff_added" in actions()


METER = {
    "serial_number": "SN-777",
    "model": "ВК-G16",
    "digits": "6",
    "max_flow": "25,5",
    "verification_due": "2030-05-01",
    "address": "Дзержинск, ул. Промышленная, 3",
    "initial_value": "1234,5",
    "initial_date": "2026-11-01",
}


def test_manager_adds_meter_with_initial_reading(app, staff, gas_org, manager, today):
    contract = make_contract(gas_org, number="ГП-1")
    db.session.commit()
    url = f"/backoffice/metering/organisations/{gas_org.id}/meters/new"
    assert staff.get(url).status_code == 200
    response = staff.post(url, data={**METER, "contract_id": contract.id})
    assert response.status_code == 302
    meter = db.session.scalar(select(MeteringPoint))
    assert (meter.serial_number, meter.digits, meter.max_flow) == ("SN-777", 6, Decimal("25.50"))
    assert meter.verification_due == date(2030, 5, 1) and meter.is_active
    reading = db.session.scalar(select(Reading))
    assert reading.value == Decimal("1234.5") and reading.consumption is None
    assert reading.source == "staff" and reading.entered_by_id == manager.id
    assert "metering.meter_created" in actions()
    # The customer's form now asks for this meter, counting from the initial reading.
    with app.test_request_context():
        rows = readings.readings_form_rows(gas_org.id, today=date(2026, 12, 22))
    assert [(row.meter.id, row.previous.id) for row in rows] == [(meter.id, reading.id)]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"serial_number": "SN-1"}, "Счётчик с таким заводским номером уже существует"),
        ({"digits": "3"}, "от 4 до 10 разрядов"),
        ({"digits": "11"}, "от 4 до 10 разрядов"),
        ({"digits": "шесть"}, "целым числом"),
        ({"max_flow": "0"}, "Максимальный расход должен быть больше нуля"),
        ({"max_flow": "много"}, "Укажите максимальный расход числом"),
        ({"initial_value": "1000000"}, "не более 6 разрядов"),
        ({"initial_value": "-5"}, "не может быть отрицательным"),
        ({"initial_date": "2026-12-01"}, "не может быть в будущем"),
        ({"contract_id": "foreign"}, "Выберите один из договоров этой организации"),
    ],
)
def test_bad_meter_is_refused_and_nothing_saved(staff, gas_org, today, change, message):
    contract = make_contract(gas_org, number="ГП-1")
    make_meter(gas_org, contract, serial="SN-1")
    foreign = make_contract(make_organisation("gas"), number="ЧУЖОЙ-1")
    db.session.commit()
    data = {**METER, "contract_id": contract.id, **change}
    if change.get("contract_id") == "foreign":
        data["contract_id"] = foreign.id
    before = count(MeteringPoint), count(Reading), count(AuditEvent)
    response = staff.post(f"/backoffice/metering/organisations/{gas_org.id}/meters/new", data=data)
    assert response.status_code == 422
    assert message in text(response) and "invalid-feedback" in text(response)
    assert (count(MeteringPoint), count(Reading), count(AuditEvent)) == before


def test_manager_edits_meter_but_not_below_its_readings(staff, gas_org, today):
    contract = make_contract(gas_org, number="ГП-1")
    other = make_contract(gas_org, number="ГП-2")
    meter = make_meter(gas_org, contract, digits=6, serial="SN-1")
    add_reading(meter, date(2026, 10, 22), 54321)
    db.session.commit()
    url = f"/backoffice/metering/meters/{meter.id}/edit"
    assert "SN-1" in text(staff.get(url))
    data = {**METER, "contract_id": other.id, "serial_number": "SN-1", "digits": "4"}
    refused = staff.post(url, data=data)
    assert refused.status_code == 422 and "54" in text(refused) and "разрядов" in text(refused)
    db.session.expire_all()
    assert db.session.get(MeteringPoint, meter.id).digits == 6
    assert staff.post(url, data={**data, "digits": "8"}).status_code == 302
    db.session.expire_all()
    meter = db.session.get(MeteringPoint, meter.id)
    assert (meter.digits, meter.contract_id, meter.model) == (8, other.id, "ВК-G16")
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "metering.meter_updated")
    )
    assert event.details["digits"] == ["6", "8"]


def test_deactivated_meter_leaves_the_form_and_keeps_history(app, staff, gas_org, today):
    meter = make_meter(gas_org, serial="SN-1")
    reading = add_reading(meter, date(2026, 10, 22), 100)
    db.session.commit()
    response = staff.post(f"/backoffice/metering/meters/{meter.id}/deactivate", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MeteringPoint, meter.id).is_active is False
    assert db.session.get(Reading, reading.id) is not None
    assert "metering.meter_deactivated" in actions()
    with app.test_request_context():
        assert readings.readings_form_rows(gas_org.id) == []
    history = staff.get(f"/backoffice/metering/meters/{meter.id}")
    assert history.status_code == 200 and "SN-1" in text(history)
    page = text(staff.get(f"/backoffice/metering/organisations/{gas_org.id}"))
    assert "SN-1" in page
    again = staff.post(
        f"/backoffice/metering/meters/{meter.id}/deactivate", data={}, follow_redirects=True
    )
    assert "уже выведен из эксплуатации" in text(again)


def test_manager_of_another_organisation_is_refused(app, gas_org, manager, today):
    gas_org.manager_id = manager.id
    contract = make_contract(gas_org, number="ГП-1")
    meter = make_meter(gas_org, contract, serial="SN-1")
    db.session.commit()
    stranger = app.test_client()
    login(stranger, make_user(login="stranger", staff_role=StaffRole.MANAGER))
    before = count(Contract), count(Tariff), count(MeteringPoint), count(AuditEvent)
    attempts = [
        ("get", f"/backoffice/metering/organisations/{gas_org.id}/contracts/new", None),
        ("post", f"/backoffice/metering/organisations/{gas_org.id}/contracts/new", CONTRACT),
        ("get", f"/backoffice/metering/contracts/{contract.id}/edit", None),
        ("post", f"/backoffice/metering/contracts/{contract.id}/edit", CONTRACT),
        (
            "post",
            f"/backoffice/metering/contracts/{contract.id}/tariffs",
            {"valid_from": "2026-12-01", "price_per_thousand": "1"},
        ),
        ("get", f"/backoffice/metering/organisations/{gas_org.id}/meters/new", None),
        (
            "post",
            f"/backoffice/metering/organisations/{gas_org.id}/meters/new",
            {**METER, "contract_id": contract.id},
        ),
        ("get", f"/backoffice/metering/meters/{meter.id}/edit", None),
        (
            "post",
            f"/backoffice/metering/meters/{meter.id}/edit",
            {**METER, "contract_id": contract.id},
        ),
        ("post", f"/backoffice/metering/meters/{meter.id}/deactivate", {}),
    ]
    for method, url, data in attempts:
        response = (
            getattr(stranger, method)(url, data=data) if data is not None else stranger.get(url)
        )
        assert response.status_code == 403, url
    shown = links(text(stranger.get(f"/backoffice/metering/organisations/{gas_org.id}")))
    assert f"/backoffice/metering/meters/{meter.id}" in shown  # the page is there, read-only
    assert [link for link in shown if link.endswith(("/contracts/new", "/edit"))] == []
    # Nothing changed; the only new audit events are the refusals themselves.
    refusals = db.session.scalar(
        select(func.count()).where(AuditEvent.action == "access.curator_refused")
    )
    assert refusals == len(attempts)
    after = count(Contract), count(Tariff), count(MeteringPoint), count(AuditEvent) - refusals
    assert after == before
    db.session.expire_all()
    assert db.session.get(MeteringPoint, meter.id).is_active


def test_missing_or_non_gas_objects_are_404(app, staff, pharmacy, admin):
    assert staff.get("/backoffice/metering/contracts/999999/edit").status_code == 404
    assert staff.get("/backoffice/metering/meters/999999/edit").status_code == 404
    client = app.test_client()
    login(client, admin)
    url = f"/backoffice/metering/organisations/{pharmacy.id}/contracts/new"
    assert client.get(url).status_code == 404
    assert client.post(url, data=CONTRACT).status_code == 404
    assert count(Contract) == 0


def test_csrf_is_required(staff, gas_org, today):
    url = f"/backoffice/metering/organisations/{gas_org.id}/contracts/new"
    response = staff.post(url, data=CONTRACT, csrf=False)
    assert response.status_code == 400 and count(Contract) == 0


def test_number_taken_by_a_concurrent_save_is_a_message_not_a_500(
    staff, gas_org, today, monkeypatch
):
    contract = make_contract(gas_org, number="ГП-1", since=date(2026, 1, 1))
    make_contract(gas_org, number="ГП-2")
    db.session.commit()
    # As if the other contract was saved between the check and the flush.
    monkeypatch.setattr(registry, "_check_contract_fields", lambda *args, **kwargs: None)
    url = f"/backoffice/metering/contracts/{contract.id}/edit"
    response = staff.post(url, data={"number": "ГП-2", "start_date": "2026-01-01"})
    assert response.status_code == 422
    assert "Договор с таким номером уже существует" in text(response)
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).number == "ГП-1"
