"""Demo planned volumes: the plant's first contract has this year's plan, agreed in December
with one month changed by the manager and later one change of a month, and one change request
still awaiting the manager. Made through the plan services with the dates they happened on."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.accounts.models import User
from portal.extensions import db
from portal.metering import plans
from portal.metering.charts import contract_consumption
from portal.metering.models import Contract, PlanRequest
from portal.metering.window import day_in_month, previous_month
from portal.organisations.models import Organisation

DEMO_INN = "5260134566"
CONTRACT = "ГП-52-0117/23"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def _hundreds(value: Decimal) -> Decimal:
    return (value / 100).quantize(Decimal(1), ROUND_HALF_UP) * 100


def seed():
    organisation = db.session.scalar(select(Organisation).where(Organisation.inn == DEMO_INN))
    contract = db.session.scalar(select(Contract).where(Contract.number == CONTRACT))
    customer = db.session.scalar(select(User).where(User.login == "gas"))
    manager = db.session.scalar(select(User).where(User.login == "manager"))
    if None in (organisation, contract, customer, manager) or db.session.scalar(
        select(PlanRequest.id).where(PlanRequest.contract_id == contract.id).limit(1)
    ):
        return
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        _seed(contract, customer, manager, clock.local_today())


def _decide(request, decision, comment, volumes, manager, day):
    plans.decide(request, decision, comment, volumes, manager)
    request.decided_at = _at(day)
    version = plans.current_version(request.contract_id, request.year)
    version.agreed_at = _at(day)


def _seed(contract, customer, manager, today):
    year = today.year
    contract.overuse_coefficient = Decimal("1.5")
    contract.underuse_coefficient = Decimal("1.1")
    last_year = {
        period.month: total
        for period, total, _n in contract_consumption(contract.id)
        if period.year == year - 1
    }
    volumes = {
        m: str(_hundreds(last_year.get(m, Decimal(5000)) * Decimal("1.05"))) for m in plans.MONTHS
    }
    sent = date(year - 1, 12, 1)
    annual = plans.submit_annual(contract, year, volumes, customer, "Годовая заявка", today=sent)
    annual.submitted_at = _at(sent)
    july = next(line for line in annual.lines if line.period.month == 7)
    lower = _hundreds(july.requested_volume * Decimal("0.8"))
    _decide(
        annual,
        plans.Decision.CHANGE,
        "В июле плановый ремонт котельной: объём снижен.",
        {july.id: str(lower)},
        manager,
        date(year - 1, 12, 5),
    )
    if today.month >= 4:  # a change of last month, asked for and agreed in time
        period = previous_month(clock.month_start(today))
        asked = day_in_month(previous_month(period), 10)
        change = plans.submit_change(
            contract,
            period,
            str(_hundreds(Decimal(volumes[period.month]) * Decimal("1.1"))),
            customer,
            "Дополнительная смена на участке",
            today=asked,
        )
        change.submitted_at = _at(asked)
        _decide(change, plans.Decision.AGREE, "", {}, manager, day_in_month(asked, 12))
    following = clock.month_start(clock.month_end(today) + timedelta(days=1))
    period = following if following.year == year else clock.month_start(today)
    asked = min(today, day_in_month(previous_month(period), 15))
    pending = plans.submit_change(
        contract,
        period,
        str(_hundreds(Decimal(volumes[period.month]) * Decimal("1.15"))),
        customer,
        "Запуск второй печи",
        today=asked,
    )
    pending.submitted_at = _at(asked)
