"""Plan against actual: per contract and month, the agreed plan, the consumption, the difference
in m³ and per cent, the month's projection and the warning when it runs over the plan.

The actual volume of a month is the consumption of the readings of that month (the period
billing charges). For the running month without readings yet, the meters' telemetry of the
days already ended is added up and projected to the month's end (volume ÷ days ended × days in
the month). When the projection exceeds the plan by more than the contract's tolerance (else
GAS_PLAN_TOLERANCE), the customer's members and the organisation's manager get one
notification for that month (`flask send-plan-warnings`, daily). Where the contract has
coefficients, the difference is priced as it would be charged: the whole over- (or under-)
consumed volume × the month's tariff × the coefficient, without VAT.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.formatting import format_volume
from portal.metering.models import (
    Contract,
    MeteringPoint,
    PlanWarning,
    Reading,
    TelemetryGranularity,
    TelemetryPoint,
)
from portal.metering.plans import agreed_plan, plan_recipients
from portal.metering.window import month_label
from portal.organisations.models import Organisation, OrganisationKind


def tolerance(contract: Contract) -> Decimal:
    if contract.plan_tolerance is not None:
        return Decimal(contract.plan_tolerance)
    return Decimal(str(current_app.config.get("GAS_PLAN_TOLERANCE", "0.05")))


@dataclass
class MonthRow:
    period: date
    plan: Decimal | None
    actual: Decimal | None  # readings, or telemetry of the days ended in the running month
    projected: Decimal | None = None  # the running month, to its end
    running: bool = False
    price: Decimal | None = None  # the difference as it would be charged, without VAT
    over_tolerance: bool = False

    @property
    def compared(self) -> Decimal | None:
        """The volume set against the plan: the projection while the month runs."""
        return self.projected if self.projected is not None else self.actual

    @property
    def difference(self) -> Decimal | None:
        if self.plan is None or self.compared is None:
            return None
        return self.compared - self.plan

    @property
    def percent(self) -> Decimal | None:
        if self.difference is None or not self.plan:
            return None
        return (self.difference * 100 / self.plan).quantize(Decimal("0.1"), ROUND_HALF_UP)


def reading_totals(contract_id, year) -> dict[date, Decimal]:
    rows = db.session.execute(
        select(Reading.period, func.sum(Reading.consumption))
        .join(MeteringPoint, MeteringPoint.id == Reading.metering_point_id)
        .where(
            MeteringPoint.contract_id == contract_id,
            Reading.period >= date(year, 1, 1),
            Reading.period <= date(year, 12, 1),
        )
        .group_by(Reading.period)
    )
    # A month whose readings carry no consumption (a meter's first reading) has no actual.
    return {period: Decimal(total) for period, total in rows if total is not None}


def running_telemetry(contract_id, today: date) -> tuple[Decimal | None, int]:
    """The telemetry volume of the contract's meters over this month's ended days, and the
    number of those days (a day sent as a daily point counts that point, else its hours)."""
    period = clock.month_start(today)
    days = (today - period).days
    if days <= 0:
        return None, 0
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    since = datetime.combine(period, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    until = datetime.combine(today, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    rows = db.session.execute(
        select(
            TelemetryPoint.metering_point_id,
            TelemetryPoint.granularity,
            TelemetryPoint.starts_at,
            TelemetryPoint.volume,
        )
        .join(MeteringPoint, MeteringPoint.id == TelemetryPoint.metering_point_id)
        .where(
            MeteringPoint.contract_id == contract_id,
            TelemetryPoint.starts_at >= since,
            TelemetryPoint.starts_at < until,
        )
    ).all()
    if not rows:
        return None, days
    daily, hourly = {}, defaultdict(Decimal)
    for meter_id, granularity, starts_at, volume in rows:
        key = (meter_id, starts_at.astimezone(zone).date())
        if granularity == TelemetryGranularity.DAY:
            daily[key] = volume
        else:
            hourly[key] += volume
    total = sum(daily.values(), Decimal(0))
    total += sum((v for k, v in hourly.items() if k not in daily), Decimal(0))
    return total, days


def _price(contract: Contract, row: MonthRow) -> Decimal | None:
    difference = row.difference
    if difference is None or difference == 0:
        return None
    coefficient = contract.overuse_coefficient if difference > 0 else contract.underuse_coefficient
    tariff = contract.tariff_on(clock.month_end(row.period))
    if coefficient is None or tariff is None:
        return None
    price = abs(difference) / 1000 * tariff.price_per_thousand * Decimal(coefficient)
    return price.quantize(Decimal("0.01"), ROUND_HALF_UP)


def plan_against_actual(contract: Contract, year: int, today: date | None = None):
    """Twelve MonthRows of a contract's year."""
    today = today or clock.local_today()
    plan = agreed_plan(contract.id, year)
    actual = reading_totals(contract.id, year)
    current = clock.month_start(today)
    share = tolerance(contract)
    rows = []
    for month in range(1, 13):
        period = date(year, month, 1)
        row = MonthRow(period, plan.get(period), actual.get(period))
        if period == current and row.actual is None:
            row.running = True
            running, days = running_telemetry(contract.id, today)
            if running is not None:
                row.actual = running
                length = clock.month_end(period).day
                row.projected = (running * length / days).quantize(Decimal("0.001"))
        if row.plan and row.difference is not None:
            row.over_tolerance = row.difference > row.plan * share
        row.price = _price(contract, row)
        rows.append(row)
    return rows


def totals(rows) -> dict:
    plan = sum((r.plan for r in rows if r.plan is not None), Decimal(0))
    actual = sum((r.compared for r in rows if r.compared is not None), Decimal(0))
    # The year's difference counts only the months with both a plan and a volume.
    difference = sum((r.difference for r in rows if r.difference is not None), Decimal(0))
    return {"plan": plan, "actual": actual, "difference": difference}


# --- the month's warning ----------------------------------------------------------------------


def send_plan_warnings(today: date | None = None) -> int:
    """Warn once per contract and month when the running month's projection exceeds the
    agreed plan by more than the tolerance; returns the number of contracts warned."""
    from portal.accounts.models import User
    from portal.notifications.services import notify

    today = today or clock.local_today()
    period = clock.month_start(today)
    warned = 0
    contracts = db.session.scalars(
        select(Contract)
        .join(Organisation, Organisation.id == Contract.organisation_id)
        .where(Organisation.kind == OrganisationKind.GAS, Organisation.is_active.is_(True))
        .order_by(Contract.id)
    )
    for contract in contracts:
        row = plan_against_actual(contract, period.year, today)[period.month - 1]
        if not (row.running and row.projected is not None and row.over_tolerance):
            continue
        if db.session.scalar(
            select(PlanWarning.id).where(
                PlanWarning.contract_id == contract.id, PlanWarning.period == period
            )
        ):
            continue
        db.session.add(
            PlanWarning(
                contract_id=contract.id, period=period, projected=row.projected, planned=row.plan
            )
        )
        title = _l(
            "Contract %(number)s: %(month)s consumption is heading over the plan",
            number=contract.number,
            month=month_label(period),
        )
        body = _l(
            "Projected to the month's end: %(projected)s m³ against %(plan)s m³ planned "
            "(%(percent)s%%).",
            projected=format_volume(row.projected),
            plan=format_volume(row.plan),
            percent=row.percent,
        )
        customer_link = url_for("metering.plan_actual", contract_id=contract.id, year=period.year)
        for user in plan_recipients(contract.organisation_id):
            notify(
                user, title, body=body, link=customer_link, organisation=contract.organisation_id
            )
        organisation = db.session.get(Organisation, contract.organisation_id)
        manager = db.session.get(User, organisation.manager_id) if organisation.manager_id else None
        if manager is not None and manager.is_active:
            notify(
                manager,
                title,
                body=body,
                link=url_for("metering_staff.plan", contract_id=contract.id, year=period.year),
            )
        warned += 1
    db.session.flush()
    return warned
