"""Plan against actual: the month's figures, the priced difference, the running month's
projection from telemetry, and the over-plan warning sent once per month."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.metering import plan_actual
from portal.metering.models import PlanMonth, PlanVersion, PlanWarning, TelemetryPoint
from portal.notifications.models import Notification
from tests.factories import login
from tests.metering.helpers import add_reading, make_contract, make_meter

MOSCOW = ZoneInfo("Europe/Moscow")


def agree(contract, volumes: dict):
    version = PlanVersion(
        organisation_id=contract.organisation_id,
        contract_id=contract.id,
        year=2026,
        number=1,
        months=[PlanMonth(period=p, volume=Decimal(v)) for p, v in volumes.items()],
    )
    db.session.add(version)


@pytest.fixture
def plant(gas_org, manager):
    """A contract with a plan of 1,000 m³ a month in 2026, September and October read, and
    November's telemetry: 60 m³ a day for the 21 days ended by 22 November."""
    gas_org.manager_id = manager.id
    contract = make_contract(gas_org, number="ГП-ФАКТ", price="8000.00")
    contract.overuse_coefficient = Decimal("1.5")
    contract.underuse_coefficient = Decimal("1.1")
    meter = make_meter(gas_org, contract, digits=8, max_flow="100")
    add_reading(meter, date(2026, 8, 22), 10000)
    add_reading(meter, date(2026, 9, 22), 10900, consumption=900)
    add_reading(meter, date(2026, 10, 22), 12100, consumption=1200)
    for day in range(1, 22):
        start = datetime(2026, 11, day, tzinfo=MOSCOW).astimezone(UTC)
        db.session.add(
            TelemetryPoint(
                organisation_id=gas_org.id,
                metering_point_id=meter.id,
                granularity="day",
                starts_at=start,
                volume=Decimal(60),
                source="api",
            )
        )
    agree(contract, {date(2026, m, 1): 1000 for m in range(1, 13)})
    db.session.commit()
    return contract


def test_each_month_shows_plan_actual_difference_and_its_price(app, plant, today):
    with app.test_request_context():
        rows = {row.period.month: row for row in plan_actual.plan_against_actual(plant, 2026)}
    october, september, november = rows[10], rows[9], rows[11]
    assert (october.plan, october.actual, october.difference) == (1000, 1200, 200)
    assert october.percent == Decimal("20.0") and october.over_tolerance
    assert october.price == Decimal("2400.00")  # 0.2 thousand m³ × 8,000 ₽ × 1.5
    assert (september.difference, september.percent) == (-100, Decimal("-10.0"))
    assert september.price == Decimal("880.00") and not september.over_tolerance  # × 1.1
    assert november.running and november.actual == Decimal(1260)
    assert november.projected == Decimal(1800)  # 1,260 m³ ÷ 21 days × 30 days
    assert november.difference == 800 and november.over_tolerance
    assert rows[12].actual is None and rows[12].difference is None
    year = plan_actual.totals(list(rows.values()))
    assert (year["plan"], year["difference"]) == (12000, 200 - 100 + 800)  # months with both


def test_the_customer_sees_the_table_and_the_running_months_warning(
    login_as, gas_user, plant, today
):
    client = login_as(gas_user)
    response = client.get(f"/metering/contracts/{plant.id}/plan/actual?year=2026")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    warning = html.split('data-testid="plan-warning"', 1)[1].split("</div>", 1)[0]
    assert "1\u00a0800" in warning and "1\u00a0000" in warning
    assert html.count('data-testid="over-plan"') == 2  # October read, November projected
    assert "2\u202f400,00" in html  # October's over-consumption as it would be charged


def test_the_warning_goes_once_a_month_to_the_customer_and_the_manager(
    app, plant, gas_user, manager, today
):
    with app.test_request_context():
        assert plan_actual.send_plan_warnings() == 1
        assert plan_actual.send_plan_warnings() == 0  # the second run of the day sends nothing
    db.session.commit()
    [warning] = db.session.scalars(select(PlanWarning)).all()
    assert (warning.period, warning.projected, warning.planned) == (date(2026, 11, 1), 1800, 1000)
    recipients = db.session.scalars(select(Notification.user_id).order_by(Notification.id)).all()
    assert sorted(recipients) == sorted([gas_user.id, manager.id])
    notice = db.session.scalar(select(Notification).where(Notification.user_id == gas_user.id))
    assert "ГП-ФАКТ" in notice.title and "1\u00a0800" in notice.body


def test_no_warning_within_the_tolerance(app, plant, gas_user, today):
    plant.plan_tolerance = Decimal("0.9")  # 1,800 m³ is 80 % over 1,000: within 90 %
    db.session.commit()
    with app.test_request_context():
        assert plan_actual.send_plan_warnings() == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 0


@pytest.mark.parametrize(
    "data, field",
    [
        ({"tolerance": "", "overuse_coefficient": "1.5"}, "tolerance"),
        ({"tolerance": "150"}, "tolerance"),
        ({"tolerance": "5", "overuse_coefficient": "-1"}, "overuse_coefficient"),
        ({"tolerance": "5", "underuse_coefficient": "много"}, "underuse_coefficient"),
    ],
)
def test_bad_plan_settings_are_refused_and_change_nothing(app, plant, manager, data, field):
    client = app.test_client()
    login(client, manager)
    response = client.post(f"/backoffice/metering/contracts/{plant.id}/plan/terms", data=data)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert (plant.plan_tolerance, plant.overuse_coefficient) == (None, Decimal("1.5"))


def test_the_manager_sets_the_tolerance_and_coefficients(app, plant, manager):
    client = app.test_client()
    login(client, manager)
    response = client.post(
        f"/backoffice/metering/contracts/{plant.id}/plan/terms",
        data={"tolerance": "10", "overuse_coefficient": "2", "underuse_coefficient": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert plant.plan_tolerance == Decimal("0.1")
    assert (plant.overuse_coefficient, plant.underuse_coefficient) == (2, None)
    page = client.get(f"/backoffice/metering/contracts/{plant.id}/plan?year=2026")
    assert page.status_code == 200 and 'data-testid="plan-actual"' in page.get_data(as_text=True)


def test_the_daily_command_warns_once(app, plant, gas_user):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-plan-warnings", "--date", "2026-11-22"])
    assert first.exit_code == 0 and "Contracts warned: 1" in first.output
    again = runner.invoke(args=["send-plan-warnings", "--date", "2026-11-22"])
    assert "Contracts warned: 0" in again.output
    assert db.session.scalar(select(func.count(PlanWarning.id))) == 1
