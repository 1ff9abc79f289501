"""/api/v1 meters, contracts, the reading window and readings: the form's rules, all or nothing."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.metering.models import Reading
from portal.organisations.models import Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.factories import make_organisation
from tests.metering.helpers import make_meter

READINGS = (Power.SUBMIT_READINGS,)


def _count():
    return db.session.scalar(select(func.count(Reading.id)))


def _post(client, token, lines, reading_date="2026-11-22"):
    return client.post(
        "/api/v1/readings",
        json={"reading_date": reading_date, "readings": lines},
        headers=bearer(token),
        csrf=False,
    )


def test_meters_contracts_and_window_of_the_organisation(api_client, gas_org, meters, today):
    first, second = meters
    make_meter(make_organisation("gas"), serial="FOREIGN-1")
    _key, token = issue_key(gas_org, READINGS)
    listed = api_client.get("/api/v1/meters", headers=bearer(token)).get_json()["meters"]
    assert [m["serial_number"] for m in listed] == ["SN-1", "SN-2"]
    assert listed[0]["last_reading"] == {
        "reading_date": "2026-10-22",
        "value": "5000.000",
        "consumption": "1000.000",
    }
    assert listed[0]["this_month"] is None and listed[0]["contract"]["number"] == "ГП-1"
    contracts = api_client.get("/api/v1/contracts", headers=bearer(token)).get_json()
    assert contracts["contracts"][0]["meter_ids"] == sorted([first.id, second.id])
    window = api_client.get("/api/v1/readings/window", headers=bearer(token)).get_json()
    assert window["period"] == "2026-11-01" and window["is_open"] is True
    assert window["opens"] == "2026-11-20" and window["closes"] == "2026-11-25"
    assert sorted(window["meters_without_reading"]) == sorted([first.id, second.id])


def test_readings_of_many_meters_in_one_request(api_client, gas_org, gas_user, meters, today):
    first, second = meters
    _key, token = issue_key(gas_org, READINGS, user=gas_user)
    response = _post(
        api_client,
        token,
        [{"meter_id": first.id, "value": "5600"}, {"meter_id": second.id, "value": "5700,5"}],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["saved"] == 2 and body["period"] == "2026-11-01"
    assert {(r["serial_number"], r["consumption"]) for r in body["readings"]} == {
        ("SN-1", "600.000"),
        ("SN-2", "700.500"),
    }
    saved = db.session.scalars(select(Reading).where(Reading.period == date(2026, 11, 1))).all()
    assert {r.consumption for r in saved} == {Decimal("600"), Decimal("700.5")}
    assert all(r.source == "api" and r.entered_by_id == gas_user.id for r in saved)
    window = api_client.get("/api/v1/readings/window", headers=bearer(token)).get_json()
    assert window["meters_without_reading"] == []


def test_a_reading_below_the_last_refuses_the_whole_request(api_client, gas_org, meters, today):
    first, second = meters
    _key, token = issue_key(gas_org, READINGS)
    before = _count()
    response = _post(
        api_client,
        token,
        [{"meter_id": first.id, "value": "5600"}, {"meter_id": second.id, "value": "4990"}],
    )
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["readings.1.value"]
    assert "меньше предыдущего (5\u00a0000 от 22.10.2026)" in body["errors"][0]["message"]
    assert "Ничего не сохранено" in body["detail"]
    assert _count() == before  # the valid first line was not saved either


def test_every_refused_line_is_named_and_a_foreign_meter_is_unknown(
    api_client, gas_org, meters, today
):
    first, second = meters
    foreign = make_meter(make_organisation("gas"))
    _key, token = issue_key(gas_org, READINGS)
    before = _count()
    body = assert_problem(
        _post(
            api_client,
            token,
            [
                {"meter_id": first.id, "value": "abc"},
                {"meter_id": second.id, "value": "99999999"},
                {"meter_id": foreign.id, "value": "10"},
            ],
        ),
        422,
    )
    fields = [e["field"] for e in body["errors"]]
    assert fields == ["readings.0.value", "readings.1.value", "readings.2.meter_id"]
    assert _count() == before


def test_malformed_bodies_change_nothing(api_client, gas_org, meters, today):
    first, _second = meters
    _key, token = issue_key(gas_org, READINGS)
    before = _count()
    future = _post(api_client, token, [{"meter_id": first.id, "value": "5600"}], "2026-12-01")
    assert assert_problem(future, 422)["errors"][0]["field"] == "reading_date"
    twice = _post(
        api_client,
        token,
        [{"meter_id": first.id, "value": "5600"}, {"meter_id": first.id, "value": "5700"}],
    )
    assert assert_problem(twice, 422)["errors"][0]["field"] == "readings.1.meter_id"
    unknown = _post(api_client, token, [{"meter_id": first.id, "value": "5600", "photo": "x"}])
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "readings.0.photo"
    wrong_type = _post(api_client, token, [{"meter_id": "1", "value": "5600"}])
    assert assert_problem(wrong_type, 422)["errors"][0]["field"] == "readings.0.meter_id"
    assert _count() == before


def test_a_second_reading_of_the_month_is_refused(api_client, gas_org, meters, today):
    first, _second = meters
    _key, token = issue_key(gas_org, READINGS)
    assert _post(api_client, token, [{"meter_id": first.id, "value": "5600"}]).status_code == 201
    again = _post(api_client, token, [{"meter_id": first.id, "value": "5700"}])
    assert "уже" in assert_problem(again, 422)["errors"][0]["message"]
