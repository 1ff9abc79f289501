"""/api/v1 telemetry: hourly and daily series, idempotent by meter and interval, all or nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.metering.models import TelemetryPoint
from portal.organisations.models import ALL_POWERS, Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.factories import login, make_organisation, make_user
from tests.metering.helpers import make_meter

READINGS = (Power.SUBMIT_READINGS,)
DAY = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 10:00 Moscow: a gas day's start


def _count():
    return db.session.scalar(select(func.count(TelemetryPoint.id)))


def _hours(start, volumes):
    return [
        {"at": (start + timedelta(hours=n)).isoformat(), "volume": str(v)}
        for n, v in enumerate(volumes)
    ]


def _post(client, token, url, body):
    return client.post(url, json=body, headers=bearer(token), csrf=False)


def test_a_series_is_stored_and_a_repeat_changes_nothing(api_client, gas_org):
    meter = make_meter(gas_org, max_flow="10")
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    url = f"/api/v1/meters/{meter.id}/telemetry"
    body = {"granularity": "hour", "points": _hours(DAY, ["1.5", "2", "0"])}
    first = _post(api_client, token, url, body)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["created"] == 3
    again = _post(api_client, token, url, body).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    body["points"][1]["volume"] = "2.250"
    changed = _post(api_client, token, url, body).get_json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    stored = db.session.scalars(select(TelemetryPoint).order_by(TelemetryPoint.starts_at)).all()
    assert [p.volume for p in stored] == [Decimal("1.5"), Decimal("2.25"), Decimal("0")]
    assert stored[0].starts_at == DAY and stored[0].granularity == "hour"


def test_bulk_series_of_many_meters_by_id_or_serial(api_client, gas_org):
    first = make_meter(gas_org, serial="TM-1")
    second = make_meter(gas_org, serial="TM-2")
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    days = [
        {"at": (DAY + timedelta(days=n)).isoformat(), "volume": "100", "counter_value": "12.5"}
        for n in range(5)
    ]
    response = _post(
        api_client,
        token,
        "/api/v1/telemetry",
        {
            "series": [
                {"meter_id": first.id, "granularity": "day", "points": days},
                {"serial_number": "TM-2", "granularity": "hour", "points": _hours(DAY, [1] * 24)},
                {"serial_number": "TM-2", "granularity": "day", "points": days[:1]},
            ]
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["created"] == 30
    assert [(s["serial_number"], s["granularity"], s["created"]) for s in body["series"]] == [
        ("TM-1", "day", 5),
        ("TM-2", "hour", 24),
        ("TM-2", "day", 1),
    ]
    assert _count() == 30 and second.id


def test_each_bad_point_is_named_by_its_index_and_nothing_is_stored(api_client, gas_org):
    meter = make_meter(gas_org, max_flow="10")
    foreign = make_meter(make_organisation("gas"))
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    future = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    future += timedelta(days=2)  # a gas day's start too, only in the future
    points = [
        {"at": DAY.isoformat(), "volume": "5"},
        {"at": (DAY + timedelta(days=1)).isoformat(), "volume": "-1"},  # negative
        {"at": future.isoformat(), "volume": "1"},  # in the future
        {"at": (DAY + timedelta(days=2, hours=1)).isoformat(), "volume": "1"},  # an hourly start
        {"at": (DAY + timedelta(days=3)).isoformat(), "volume": "241"},  # over 10 m³/h × 24 h
        {"at": DAY.isoformat(), "volume": "5"},  # the same day twice
    ]
    response = _post(
        api_client,
        token,
        "/api/v1/telemetry",
        {
            "series": [
                {"meter_id": meter.id, "granularity": "day", "points": points},
                {"meter_id": foreign.id, "granularity": "hour", "points": _hours(DAY, [1])},
            ]
        },
    )
    body = assert_problem(response, 422)
    fields = [e["field"] for e in body["errors"]]
    assert fields == [
        "series.0.points.1.volume",
        "series.0.points.2.at",
        "series.0.points.3.at",
        "series.0.points.4.volume",
        "series.0.points.5.at",
        "series.1.meter_id",
    ]
    messages = " ".join(e["message"] for e in body["errors"])
    assert "отрицательным" in messages or "negative" in messages
    assert _count() == 0  # the good first point was not stored either


def test_malformed_points_are_refused_by_the_schema(api_client, gas_org):
    meter = make_meter(gas_org)
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    url = f"/api/v1/meters/{meter.id}/telemetry"
    naive = {"granularity": "hour", "points": [{"at": "2026-11-01T10:00:00", "volume": "1"}]}
    assert assert_problem(_post(api_client, token, url, naive), 422)["errors"][0]["field"] == (
        "points.0.at"
    )
    minutes = {"granularity": "hour", "points": [{"at": "2026-11-01T10:30:00Z", "volume": "1"}]}
    assert assert_problem(_post(api_client, token, url, minutes), 422)["errors"][0]["field"] == (
        "points.0.at"
    )
    weekly = {"granularity": "week", "points": _hours(DAY, [1])}
    assert assert_problem(_post(api_client, token, url, weekly), 422)["errors"][0]["field"] == (
        "granularity"
    )
    nan = {"granularity": "hour", "points": [{"at": DAY.isoformat(), "volume": "NaN"}]}
    assert_problem(_post(api_client, token, url, nan), 422)
    assert _count() == 0


def test_another_organisations_meter_is_404(api_client, gas_org):
    foreign = make_meter(make_organisation("gas"))
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    response = _post(
        api_client,
        token,
        f"/api/v1/meters/{foreign.id}/telemetry",
        {"granularity": "hour", "points": _hours(DAY, [1])},
    )
    assert_problem(response, 404)
    assert _count() == 0


def test_the_meter_page_shows_daily_totals_of_the_telemetry(app, api_client, gas_org, today):
    # "today" is pinned to 22 November 2026 by the metering fixture
    meter = make_meter(gas_org, serial="TM-PAGE")
    db.session.commit()
    _key, token = issue_key(gas_org, READINGS)
    start = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 21 November 00:00 Moscow
    _post(
        api_client,
        token,
        f"/api/v1/meters/{meter.id}/telemetry",
        {"granularity": "hour", "points": _hours(start, ["1.25"] * 24)},
    )
    client = app.test_client()
    login(client, make_user(gas_org, ALL_POWERS))
    page = client.get(f"/metering/meters/{meter.id}").get_data(as_text=True)
    assert "21.11.2026" in page and "30" in page  # 24 × 1.25 m³
    assert "24" in page
