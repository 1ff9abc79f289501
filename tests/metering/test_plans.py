"""Planned volumes: the customer's annual and change requests, the manager's decisions, the
plan's versions, and refusals that save nothing."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.metering.models import PlanMonth, PlanRequest, PlanRequestLine, PlanVersion
from portal.notifications.models import Notification
from tests.factories import login, make_organisation, make_user
from tests.metering.helpers import make_contract

# The `today` fixture pins 22 November 2026: December's deadline (20 November) has passed,
# every month of 2027 is open until the 20th of the month before.


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def rows_written():
    return tuple(
        count(model) for model in (PlanRequest, PlanRequestLine, PlanVersion, PlanMonth, AuditEvent)
    )


def annual(year=2027, volume="1000", **overrides):
    data = {"year": str(year), "comment": "план на год"}
    for month in range(1, 13):
        data[f"month_{month}"] = volume
    data.update(overrides)
    return data


@pytest.fixture
def contract(gas_org):
    contract = make_contract(gas_org, number="ГП-П1")
    db.session.commit()
    return contract


@pytest.fixture
def curator(app, manager, gas_org):
    gas_org.manager_id = manager.id
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    return client


def test_annual_request_agreed_with_a_change_makes_version_one(
    login_as, gas_user, contract, curator, manager, today
):
    client = login_as(gas_user)
    response = client.post(f"/metering/contracts/{contract.id}/plan/annual", data=annual())
    assert response.status_code == 302
    request = db.session.scalar(select(PlanRequest))
    assert (request.kind, request.status, request.year) == ("annual", "pending", 2027)
    assert [line.period.month for line in request.lines] == list(range(1, 13))
    assert {line.requested_volume for line in request.lines} == {Decimal(1000)}

    told = db.session.scalar(select(Notification.link).where(Notification.user_id == manager.id))
    assert told.endswith(f"/backoffice/metering/plan-requests/{request.id}")  # the curator knows
    listing = curator.get("/backoffice/metering/plans").get_data(as_text=True)
    assert f"/backoffice/metering/plan-requests/{request.id}" in listing
    march = next(line for line in request.lines if line.period == date(2027, 3, 1))
    decide_page = curator.get(f"/backoffice/metering/plan-requests/{request.id}")
    assert f'name="volume-{march.id}" inputmode="decimal" value="1000"' in decide_page.get_data(
        as_text=True
    )  # the asked volume, ready to edit (not «1E+3»)
    response = curator.post(
        f"/backoffice/metering/plan-requests/{request.id}",
        data={"decision": "change", "comment": "в марте ремонт", f"volume-{march.id}": "800"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert request.status == "changed" and request.decided_by_id == manager.id
    assert request.decision_comment == "в марте ремонт"
    [version] = db.session.scalars(select(PlanVersion)).all()
    volumes = version.volumes()
    assert version.number == 1 and version.request_id == request.id
    assert volumes[date(2027, 3, 1)] == Decimal(800) and volumes[date(2027, 4, 1)] == 1000
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["metering.plan_annual_requested", "metering.plan_changed"]
    decision = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "metering.plan_changed")
    )
    assert decision.actor_id == manager.id and decision.details["comment"] == "в марте ремонт"
    notice = db.session.scalar(select(Notification).where(Notification.user_id == gas_user.id))
    assert "ГП-П1" in notice.title and notice.body == "в марте ремонт"

    page = client.get(f"/metering/contracts/{contract.id}/plan?year=2027")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Согласована с изменениями" in html  # the request's status, in Russian
    assert "1\u00a0000 → 800" in html  # asked for 1,000 m³ in March, 800 agreed


def test_a_change_before_the_deadline_makes_a_new_version_and_keeps_the_old(
    login_as, gas_user, contract, curator, today
):
    client = login_as(gas_user)
    client.post(f"/metering/contracts/{contract.id}/plan/annual", data=annual())
    first = db.session.scalar(select(PlanRequest))
    assert (
        curator.post(
            f"/backoffice/metering/plan-requests/{first.id}", data={"decision": "agree"}
        ).status_code
        == 302
    )
    response = client.post(
        f"/metering/contracts/{contract.id}/plan/change",
        data={"period": "2027-02", "volume": "1500,5", "comment": "новая линия"},
    )
    assert response.status_code == 302
    change = db.session.scalar(select(PlanRequest).where(PlanRequest.kind == "change"))
    assert [(line.period, line.requested_volume) for line in change.lines] == [
        (date(2027, 2, 1), Decimal("1500.5"))
    ]
    assert (
        curator.post(
            f"/backoffice/metering/plan-requests/{change.id}", data={"decision": "agree"}
        ).status_code
        == 302
    )
    versions = db.session.scalars(select(PlanVersion).order_by(PlanVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].volumes()[date(2027, 2, 1)] == 1000  # the history keeps what was agreed
    assert versions[1].volumes()[date(2027, 2, 1)] == Decimal("1500.5")
    assert versions[1].volumes()[date(2027, 1, 1)] == 1000
    html = client.get(f"/metering/contracts/{contract.id}/plan?year=2027").get_data(as_text=True)
    assert 'data-testid="plan-history"' in html and html.count("Версия ") >= 3


@pytest.mark.parametrize(
    "path, data, field, message",
    [
        ("annual", annual(month_4="-5"), "month_4", "Объём не может быть отрицательным"),
        ("annual", annual(month_7="много"), "month_7", "Введите число"),
        ("annual", annual(year=2026), "month_3", "03.2026 закрыт"),
        ("annual", annual(year=2026), "month_12", "Изменения на 12.2026 принимались до 20.11.2026"),
        ("annual", annual(year=2031), "year", "Выберите этот или следующий год"),
        ("change", {"period": "2026-10", "volume": "10"}, "period", "10.2026 закрыт"),
        (
            "change",
            {"period": "2026-12", "volume": "10"},
            "period",
            "Изменения на 12.2026 принимались до 20.11.2026",
        ),
        ("change", {"period": "2027-05", "volume": "-1"}, "volume", "не может быть отрицательным"),
    ],
)
def test_bad_request_is_refused_next_to_its_field_and_saves_nothing(
    login_as, gas_user, contract, today, path, data, field, message
):
    client = login_as(gas_user)
    before = rows_written()
    response = client.post(f"/metering/contracts/{contract.id}/plan/{path}", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors_block = html.split(f'id="{field}-errors"', 1)[1].split("</div>", 1)[0]
    assert message in errors_block
    assert rows_written() == before


def test_request_on_another_organisations_contract_is_404_and_saves_nothing(
    login_as, gas_user, today
):
    stranger = make_organisation("gas", name='АО "Чужой завод"')
    foreign = make_contract(stranger, number="ЧУЖ-1")
    db.session.commit()
    client = login_as(gas_user)
    before = rows_written()
    assert (
        client.post(f"/metering/contracts/{foreign.id}/plan/annual", data=annual()).status_code
        == 404
    )
    assert (
        client.post(
            f"/metering/contracts/{foreign.id}/plan/change",
            data={"period": "2027-02", "volume": "5"},
        ).status_code
        == 404
    )
    assert client.get(f"/metering/contracts/{foreign.id}/plan").status_code == 404
    assert rows_written() == before


def test_a_second_request_for_a_pending_month_is_refused(login_as, gas_user, contract, today):
    client = login_as(gas_user)
    data = {"period": "2027-02", "volume": "5"}
    assert (
        client.post(f"/metering/contracts/{contract.id}/plan/change", data=data).status_code == 302
    )
    response = client.post(f"/metering/contracts/{contract.id}/plan/change", data=data)
    assert response.status_code == 422
    assert "ожидает решения менеджера" in response.get_data(as_text=True)
    assert count(PlanRequest) == 1


def test_rejection_needs_a_comment_and_a_decided_request_stays_decided(
    login_as, gas_user, contract, curator, today
):
    client = login_as(gas_user)
    client.post(
        f"/metering/contracts/{contract.id}/plan/change", data={"period": "2027-02", "volume": "5"}
    )
    request = db.session.scalar(select(PlanRequest))
    url = f"/backoffice/metering/plan-requests/{request.id}"
    before = rows_written()
    response = curator.post(url, data={"decision": "reject", "comment": ""})
    assert response.status_code == 422
    assert rows_written() == before
    db.session.expire_all()
    assert request.status == "pending"
    assert (
        curator.post(url, data={"decision": "reject", "comment": "нет мощности"}).status_code == 302
    )
    db.session.expire_all()
    assert request.status == "rejected" and count(PlanVersion) == 0
    again = curator.post(url, data={"decision": "agree"})
    assert again.status_code == 422
    db.session.expire_all()
    assert request.status == "rejected" and count(PlanVersion) == 0


def test_a_manager_who_does_not_curate_the_customer_cannot_decide(
    app, login_as, gas_user, contract, curator, today
):
    client = login_as(gas_user)
    client.post(
        f"/metering/contracts/{contract.id}/plan/change", data={"period": "2027-02", "volume": "5"}
    )
    request = db.session.scalar(select(PlanRequest))
    other = make_user(login="manager2", staff_role="manager")
    outsider = app.test_client()
    login(outsider, other)
    response = outsider.post(
        f"/backoffice/metering/plan-requests/{request.id}", data={"decision": "agree"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert request.status == "pending" and count(PlanVersion) == 0
