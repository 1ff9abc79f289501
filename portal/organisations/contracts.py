"""The supply contract of a pharmacy or medical organisation: its number, date and deferral.

The invoice for payment names it as its «Основание»; deferred-payment orders are due the
contract's deferral (calendar days) after shipment. Set when the application is approved (a
number «П-{year}-{seq}» is generated when the manager leaves it blank) and changed by the
organisation's curator on its back-office page; every change is audited with before and after.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit, clock
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Organisation

NUMBER_MAX_LENGTH = 40
EARLIEST_DATE = date(2000, 1, 1)
# A contract may be dated ahead (signed for the first of next month), but not further.
MAX_DAYS_AHEAD = 31
MAX_DEFERRAL_DAYS = 365


@dataclass(frozen=True)
class SupplyContract:
    number: str
    date: date


def contract_of(organisation) -> SupplyContract | None:
    if organisation.supply_contract_number and organisation.supply_contract_date:
        return SupplyContract(
            organisation.supply_contract_number, organisation.supply_contract_date
        )
    return None


def deferral_days(organisation) -> int:
    """Calendar days a deferred-payment order of this organisation may be paid after shipment."""
    if organisation.payment_deferral_days is not None:
        return organisation.payment_deferral_days
    return int(current_app.config.get("DEFERRED_PAYMENT_DAYS", 30))


def date_problem(value: date | None):
    """Why a contract date is not acceptable (None when it is)."""
    if value is None:
        return _l("Enter the contract date.")
    if value < EARLIEST_DATE:
        return _l("The contract date cannot be before 01.01.2000.")
    latest = clock.local_today() + timedelta(days=MAX_DAYS_AHEAD)
    if value > latest:
        return _l(
            "The contract date cannot be later than %(date)s (%(days)s days from today).",
            date=latest.strftime("%d.%m.%Y"),
            days=MAX_DAYS_AHEAD,
        )
    return None


def number_problem(value: str | None):
    value = (value or "").strip()
    if not value:
        return _l("Enter the contract number.")
    if len(value) > NUMBER_MAX_LENGTH:
        return _l("The contract number is at most %(count)s characters.", count=NUMBER_MAX_LENGTH)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return _l("The contract number cannot contain control characters.")
    return None


def default_number(day: date) -> str:
    """«П-2026-0007»: the next free sequence number among the year's generated numbers."""
    prefix = f"П-{day.year}-"
    used = db.session.scalars(
        select(Organisation.supply_contract_number).where(
            Organisation.supply_contract_number.like(prefix + "%")
        )
    ).all()
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    numbers = [int(m.group(1)) for m in (pattern.match(n or "") for n in used) if m]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _snapshot(organisation) -> dict:
    return {
        "number": organisation.supply_contract_number,
        "date": organisation.supply_contract_date.isoformat()
        if organisation.supply_contract_date
        else None,
        "deferral_days": organisation.payment_deferral_days,
    }


def set_supply_contract(
    organisation, *, number, contract_date, deferral_days=None, actor=None, generate=False
):
    """Validate and store the contract; audited with the values before and after.

    With `generate`, an empty number gets the next «П-{year}-{seq}» of the contract's year.
    Nothing is changed when any value is refused (UserError names the field).
    """
    number = (number or "").strip()
    if not number and generate and contract_date is not None:
        number = default_number(contract_date)
    problem = number_problem(number)
    if problem:
        raise UserError(problem, "number")
    problem = date_problem(contract_date)
    if problem:
        raise UserError(problem, "date")
    if deferral_days is not None and not 0 <= deferral_days <= MAX_DEFERRAL_DAYS:
        raise UserError(
            _l("The deferral is from 0 to %(days)s days.", days=MAX_DEFERRAL_DAYS),
            "deferral_days",
        )
    before = _snapshot(organisation)
    organisation.supply_contract_number = number
    organisation.supply_contract_date = contract_date
    organisation.payment_deferral_days = deferral_days
    after = _snapshot(organisation)
    if before != after:
        audit.record(
            "organisation.supply_contract_changed",
            actor=actor,
            target=organisation,
            organisation=organisation,
            before=before,
            after=after,
        )
    return contract_of(organisation)
