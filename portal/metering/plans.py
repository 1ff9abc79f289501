"""Planned volumes (заявки на объёмы газа): the customer's requests, the manager's decisions and
the agreed plan's versions.

A customer asks for every month of a year at once (the annual request) or for one month's new
volume (a change). Each month may be asked for until its deadline: the configured day
(GAS_PLAN_CHANGE_DEADLINE_DAY, the 20th by default) of the month before; a month that has begun
is closed. The manager agrees a request as asked, agrees it with other volumes, or rejects it,
with a comment; every decision is audited and tells the customer. An agreed decision makes a
new version of the contract's plan for that year: all the year's months agreed so far, with
the date and the decision it came from, so the history shows what was in force when.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import local_date
from portal.metering.models import (
    Contract,
    PlanMonth,
    PlanRequest,
    PlanRequestKind,
    PlanRequestLine,
    PlanRequestStatus,
    PlanVersion,
)
from portal.metering.window import day_in_month, month_label, previous_month
from portal.organisations.models import Membership, Organisation, Power
from portal.validators import NumberError, parse_decimal

PLAN_DIGITS = 10  # up to 9,999,999,999 m³ a month
MONTHS = range(1, 13)
PLAN_POWERS = (Power.SUBMIT_READINGS, Power.VIEW_FINANCE)  # the members told of decisions


class PlanRejected(UserError):
    """A request refused for one or more fields: `details["errors"]` is {field: message}."""


def deadline_day() -> int:
    return int(current_app.config.get("GAS_PLAN_CHANGE_DEADLINE_DAY", 20))


def change_deadline(period: date) -> date:
    """The last day a month's volume may be asked for: the deadline day of the month before."""
    return day_in_month(previous_month(period), deadline_day())


def _volume(raw, field: str):
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise UserError(_l("Enter the volume in m³."), field)
    try:
        value = parse_decimal(text, max_digits=PLAN_DIGITS)
    except NumberError as error:
        raise UserError(error.message, field) from error
    if value < 0:
        raise UserError(_l("A volume cannot be negative."), field)
    if value != value.quantize(Decimal("0.001")):
        raise UserError(_l("Use at most three decimal places."), field)
    return value


def month_problem(contract: Contract, period: date, today: date) -> str | None:
    """Why a month's volume may not be asked for today (None: it may)."""
    if period < clock.month_start(today):
        return str(
            _l("%(month)s is closed: its plan can no longer change.", month=month_label(period))
        )
    deadline = change_deadline(period)
    if today > deadline:
        return str(
            _l(
                "Changes for %(month)s were due by %(date)s.",
                month=month_label(period),
                date=local_date(deadline),
            )
        )
    if period < clock.month_start(contract.start_date) or (
        contract.end_date is not None and period > contract.end_date
    ):
        return str(_l("The contract does not cover %(month)s.", month=month_label(period)))
    return None


def _pending_periods(contract_id) -> set[date]:
    return set(
        db.session.scalars(
            select(PlanRequestLine.period)
            .join(PlanRequest, PlanRequest.id == PlanRequestLine.request_id)
            .where(
                PlanRequest.contract_id == contract_id,
                PlanRequest.status == PlanRequestStatus.PENDING,
            )
        )
    )


def _refuse(problems: dict) -> None:
    if problems:
        field, message = next(iter(problems.items()))
        raise PlanRejected(message, field, errors=problems)


def _new_request(contract, kind, year, lines, user, comment) -> PlanRequest:
    request = PlanRequest(
        organisation_id=contract.organisation_id,
        contract_id=contract.id,
        kind=kind,
        year=year,
        status=PlanRequestStatus.PENDING,
        comment=(comment or "").strip()[:500] or None,
        submitted_by_id=getattr(user, "id", None),
        lines=[PlanRequestLine(period=p, requested_volume=v) for p, v in sorted(lines.items())],
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        f"metering.plan_{kind}_requested",
        target=request,
        actor=user,
        contract=contract.number,
        year=year,
        volumes={p.isoformat(): str(v) for p, v in sorted(lines.items())},
    )
    _tell_manager(request, contract)
    return request


def _tell_manager(request: PlanRequest, contract: Contract) -> None:
    """The organisation's curator learns of a new request under the bell."""
    from portal.accounts.models import User
    from portal.notifications.services import notify

    organisation = db.session.get(Organisation, contract.organisation_id)
    manager = db.session.get(User, organisation.manager_id) if organisation.manager_id else None
    if manager is None or not manager.is_active:
        return
    notify(
        manager,
        _l("New plan request on contract %(number)s", number=contract.number),
        body=str(request.kind_enum.label),
        link=url_for("metering_staff.decide_plan_request", request_id=request.id),
    )


def submit_annual(
    contract: Contract, year, raw_volumes: dict, user, comment=None, today: date | None = None
) -> PlanRequest:
    """The annual request: a volume for every month of `year` ({month number: text}).

    Each month is checked (a number, not negative, open until its deadline); any refusal
    refuses the whole request, with a message per month field (`month_<n>`)."""
    today = today or clock.local_today()
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = None
    if year not in (today.year, today.year + 1):
        raise PlanRejected(
            _l("Choose this year or the next."),
            "year",
            errors={"year": str(_l("Choose this year or the next."))},
        )
    problems, lines = {}, {}
    pending = _pending_periods(contract.id)
    for month in MONTHS:
        field, period = f"month_{month}", date(year, month, 1)
        try:
            lines[period] = _volume(raw_volumes.get(month), field)
        except UserError as error:
            problems[field] = str(error.message)
            continue
        problem = month_problem(contract, period, today)
        if problem is None and period in pending:
            problem = str(
                _l("A request for %(month)s awaits the manager.", month=month_label(period))
            )
        if problem:
            problems[field] = problem
    _refuse(problems)
    return _new_request(contract, PlanRequestKind.ANNUAL, year, lines, user, comment)


def submit_change(
    contract: Contract, period: date | None, raw_volume, user, comment=None, today=None
) -> PlanRequest:
    """A change of one month's volume, before that month's deadline."""
    today = today or clock.local_today()
    problems = {}
    if period is None:
        problems["period"] = str(_l("Choose the month."))
    else:
        period = clock.month_start(period)
        problem = month_problem(contract, period, today)
        if problem is None and period in _pending_periods(contract.id):
            problem = str(
                _l("A request for %(month)s awaits the manager.", month=month_label(period))
            )
        if problem:
            problems["period"] = problem
    try:
        volume = _volume(raw_volume, "volume")
    except UserError as error:
        problems["volume"] = str(error.message)
    _refuse(problems)
    return _new_request(
        contract, PlanRequestKind.CHANGE, period.year, {period: volume}, user, comment
    )


# --- the manager's decision -------------------------------------------------------------------


class Decision:
    AGREE = "agree"
    CHANGE = "change"
    REJECT = "reject"


def decide(request: PlanRequest, decision: str, comment, volumes: dict, user) -> PlanVersion | None:
    """Agree, change ({line id: text}; a line left out keeps its volume) or reject a pending
    request; a new plan version unless rejected. A change or a rejection needs a comment."""
    problems = {}
    comment = (comment or "").strip()
    if request.status != PlanRequestStatus.PENDING:
        raise UserError(_l("This request has already been decided."))
    if decision not in (Decision.AGREE, Decision.CHANGE, Decision.REJECT):
        problems["decision"] = str(_l("Choose a decision."))
    elif decision != Decision.AGREE and not comment:
        problems["comment"] = str(_l("Say why: the customer sees the comment."))
    agreed = {}
    for line in request.lines:
        agreed[line.id] = line.requested_volume
        if decision == Decision.CHANGE and line.id in volumes:  # a line not sent: as asked
            field = f"volume-{line.id}"
            try:
                agreed[line.id] = _volume(volumes.get(line.id), field)
            except UserError as error:
                problems[field] = str(error.message)
    _refuse(problems)
    if decision == Decision.CHANGE and all(
        agreed[line.id] == line.requested_volume for line in request.lines
    ):
        decision = Decision.AGREE  # nothing changed: agreed as asked
    request.decided_by_id = user.id
    request.decided_at = utcnow()
    request.decision_comment = comment[:500] or None
    version = None
    if decision == Decision.REJECT:
        request.status = PlanRequestStatus.REJECTED
    else:
        request.status = (
            PlanRequestStatus.AGREED if decision == Decision.AGREE else PlanRequestStatus.CHANGED
        )
        for line in request.lines:
            line.agreed_volume = agreed[line.id]
        version = _new_version(request, user)
    db.session.flush()
    audit.record(
        f"metering.plan_{request.status}",
        target=request,
        actor=user,
        contract=request.contract.number,
        comment=request.decision_comment,
        volumes={
            line.period.isoformat(): str(line.agreed_volume)
            for line in request.lines
            if line.agreed_volume is not None
        },
        version=version.number if version else None,
    )
    _tell_customer(request)
    return version


def _new_version(request: PlanRequest, user) -> PlanVersion:
    previous = current_version(request.contract_id, request.year)
    volumes = previous.volumes() if previous else {}
    for line in request.lines:
        volumes[line.period] = line.agreed_volume
    version = PlanVersion(
        organisation_id=request.organisation_id,
        contract_id=request.contract_id,
        year=request.year,
        number=(previous.number + 1) if previous else 1,
        request_id=request.id,
        agreed_by_id=user.id,
        months=[PlanMonth(period=p, volume=v) for p, v in sorted(volumes.items())],
    )
    db.session.add(version)
    return version


def _tell_customer(request: PlanRequest) -> None:
    from portal.notifications.services import notify

    link = url_for("metering.plan", contract_id=request.contract_id, year=request.year)
    title = _l(
        "Planned volumes of contract %(number)s: %(status)s",
        number=request.contract.number,
        status=request.status_enum.label,
    )
    for user in plan_recipients(request.organisation_id):
        notify(
            user,
            title,
            body=request.decision_comment,
            link=link,
            organisation=request.organisation_id,
        )


def plan_recipients(organisation_id) -> list:
    """The organisation's members who see plans: active, not blocked, with a plan power."""
    memberships = db.session.scalars(
        select(Membership).where(
            Membership.organisation_id == organisation_id, Membership.is_blocked.is_(False)
        )
    )
    return [
        m.user
        for m in memberships
        if m.user.is_active and any(m.has(power) for power in PLAN_POWERS)
    ]


# --- reading the plan -------------------------------------------------------------------------


def current_version(contract_id, year) -> PlanVersion | None:
    return db.session.scalar(
        select(PlanVersion)
        .where(PlanVersion.contract_id == contract_id, PlanVersion.year == year)
        .order_by(PlanVersion.number.desc())
        .options(selectinload(PlanVersion.months))
        .limit(1)
    )


def agreed_plan(contract_id, year) -> dict[date, object]:
    version = current_version(contract_id, year)
    return version.volumes() if version else {}


def versions(contract_id, year) -> list[PlanVersion]:
    """The plan's versions for a year, newest first, each with its months."""
    return list(
        db.session.scalars(
            select(PlanVersion)
            .where(PlanVersion.contract_id == contract_id, PlanVersion.year == year)
            .order_by(PlanVersion.number.desc())
            .options(selectinload(PlanVersion.months), selectinload(PlanVersion.agreed_by))
        )
    )


def requests_of(contract_id) -> list[PlanRequest]:
    return list(
        db.session.scalars(
            select(PlanRequest)
            .where(PlanRequest.contract_id == contract_id)
            .order_by(PlanRequest.submitted_at.desc(), PlanRequest.id.desc())
            .options(selectinload(PlanRequest.lines))
        )
    )


def pending_requests() -> list[PlanRequest]:
    """Every request awaiting a manager, oldest first (the staff's list)."""
    return list(
        db.session.scalars(
            select(PlanRequest)
            .where(PlanRequest.status == PlanRequestStatus.PENDING)
            .order_by(PlanRequest.submitted_at, PlanRequest.id)
            .options(selectinload(PlanRequest.lines), selectinload(PlanRequest.contract))
        )
    )


def pending_counts(organisation_id) -> dict[int, int]:
    """{contract id: requests awaiting the manager} of an organisation."""
    rows = db.session.execute(
        select(PlanRequest.contract_id, func.count(PlanRequest.id))
        .where(
            PlanRequest.organisation_id == organisation_id,
            PlanRequest.status == PlanRequestStatus.PENDING,
        )
        .group_by(PlanRequest.contract_id)
    )
    return defaultdict(int, dict(rows.all()))


def open_months(contract: Contract, today: date | None = None) -> list[date]:
    """The months whose volume may still be asked for (this year's and next year's)."""
    today = today or clock.local_today()
    months = [date(year, month, 1) for year in (today.year, today.year + 1) for month in MONTHS]
    return [period for period in months if month_problem(contract, period, today) is None]


# --- the contract's plan settings (staff) -----------------------------------------------------


def _optional_number(raw, field, *, low, high, message):
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        value = parse_decimal(text, max_digits=3)
    except NumberError as error:
        raise UserError(error.message, field) from error
    if not (low <= value <= high):
        raise UserError(message, field)
    return value


def set_plan_terms(contract: Contract, tolerance_percent, overuse, underuse) -> None:
    """The contract's tolerance (per cent) and its over/under-consumption coefficients over the
    tariff (empty: not charged). Audited."""
    problems, values = {}, {}
    checks = {
        "tolerance": (tolerance_percent, Decimal(0), Decimal(100), _l("Enter 0 to 100 per cent.")),
        "overuse_coefficient": (overuse, Decimal("0.001"), Decimal(10), _l("Enter 0.001 to 10.")),
        "underuse_coefficient": (underuse, Decimal("0.001"), Decimal(10), _l("Enter 0.001 to 10.")),
    }
    for field, (raw, low, high, message) in checks.items():
        try:
            values[field] = _optional_number(raw, field, low=low, high=high, message=message)
        except UserError as error:
            problems[field] = str(error.message)
    if "tolerance" not in problems and values["tolerance"] is None:
        problems["tolerance"] = str(_l("Enter 0 to 100 per cent."))
    _refuse(problems)
    tolerance = values["tolerance"]
    before = {
        "plan_tolerance": contract.plan_tolerance,
        "overuse_coefficient": contract.overuse_coefficient,
        "underuse_coefficient": contract.underuse_coefficient,
    }
    contract.plan_tolerance = tolerance / 100
    contract.overuse_coefficient = values["overuse_coefficient"]
    contract.underuse_coefficient = values["underuse_coefficient"]
    db.session.flush()
    audit.record(
        "metering.plan_terms_updated",
        target=contract,
        before={k: None if v is None else str(v) for k, v in before.items()},
        after={
            "plan_tolerance": None
            if contract.plan_tolerance is None
            else str(contract.plan_tolerance),
            "overuse_coefficient": None
            if contract.overuse_coefficient is None
            else str(contract.overuse_coefficient),
            "underuse_coefficient": None
            if contract.underuse_coefficient is None
            else str(contract.underuse_coefficient),
        },
    )
