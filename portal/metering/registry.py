"""The registry staff keep: gas contracts, their tariff history and the metering points."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.billing.models import GasCharge, VatCategory
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import format_volume, local_date
from portal.metering.models import Contract, MeteringPoint, Reading, ReadingSource, Tariff
from portal.metering.readings import parse_volume
from portal.metering.window import month_label
from portal.money import MoneyError, to_money
from portal.organisations.models import Organisation
from portal.validators import NumberError, parse_decimal, parse_whole

MIN_DIGITS, MAX_DIGITS = 4, 10


def _clean(text) -> str:
    return (text or "").strip()


def _parse_price(raw) -> Decimal:
    try:
        price = to_money(raw)
    except MoneyError as error:
        raise UserError(_l("Enter the price as a number."), "price_per_thousand") from error
    if price <= 0:
        raise UserError(_l("The price must be positive."), "price_per_thousand")
    return price


def _vat_category(value) -> str:
    try:
        return VatCategory(value or "general").value
    except ValueError as error:
        raise UserError(_l("Choose the VAT category."), "vat_category") from error


def _check_contract_fields(organisation_id, number, start_date, end_date, contract_id=None):
    if not number:
        raise UserError(_l("Enter the contract number."), "number")
    if end_date is not None and end_date < start_date:
        raise UserError(_l("The end date cannot be before the start date."), "end_date")
    taken = db.session.scalar(select(Contract.id).where(Contract.number == number))
    if taken is not None and taken != contract_id:
        raise UserError(_l("A contract with this number already exists."), "number")


@contextmanager
def _unique(field, message):
    """The changes made inside, flushed in a savepoint: a unique violation from a concurrent
    save becomes a message next to the field, and the session stays usable (the message's
    locale is read through it)."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as error:
        raise UserError(message, field) from error


def _audit_changes(action: str, target, before: dict, after: dict) -> None:
    """Audit the fields that changed as [before, after] pairs; nothing when none did."""
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(action, target=target, organisation=target.organisation_id, **changes)


def organisation_contracts(organisation_id, *, with_tariffs=False) -> list[Contract]:
    """The organisation's gas contracts by number (with their tariffs preloaded if asked)."""
    query = select(Contract).where(Contract.organisation_id == organisation_id)
    if with_tariffs:
        query = query.options(selectinload(Contract.tariffs))
    return db.session.scalars(query.order_by(Contract.number)).all()


def create_contract(
    organisation, number, start_date, end_date, price, *, vat_category="general"
) -> Contract:
    """A new contract of a gas customer with its first tariff, in force from the start date."""
    if not organisation.is_gas:
        raise UserError(_l("Contracts are only for gas customers."), "number")
    number = _clean(number)
    _check_contract_fields(organisation.id, number, start_date, end_date)
    price = _parse_price(price)
    contract = Contract(
        organisation_id=organisation.id, number=number, start_date=start_date, end_date=end_date
    )
    vat_category = _vat_category(vat_category)
    contract.tariffs = [
        Tariff(valid_from=start_date, price_per_thousand=price, vat_category=vat_category)
    ]
    with _unique("number", _l("A contract with this number already exists.")):
        db.session.add(contract)
    audit.record(
        "metering.contract_created",
        target=contract,
        organisation=organisation,
        number=number,
        start_date=start_date.isoformat(),
        end_date=end_date.isoformat() if end_date else None,
        price_per_thousand=str(price),
        vat_category=vat_category,
    )
    return contract


def last_charged_period(contract_id) -> date | None:
    return db.session.scalar(
        select(func.max(GasCharge.period)).where(GasCharge.contract_id == contract_id)
    )


def update_contract(
    contract: Contract, number, start_date, end_date, *, gas_act_required=None
) -> Contract:
    """Change a contract; `gas_act_required` None leaves the gas-act flag as it is."""
    number = _clean(number)
    _check_contract_fields(contract.organisation_id, number, start_date, end_date, contract.id)
    first_tariff = contract.tariffs[0].valid_from if contract.tariffs else None
    if first_tariff is not None and start_date > first_tariff:
        raise UserError(
            _(
                "The contract has a tariff from %(date)s: it cannot start later.",
                date=local_date(first_tariff),
            ),
            "start_date",
        )
    charged = last_charged_period(contract.id)
    if charged is not None and end_date is not None and end_date < charged:
        raise UserError(
            _(
                "Gas is already charged under this contract for %(month)s: it cannot end earlier.",
                month=month_label(charged),
            ),
            "end_date",
        )
    before = {
        "number": contract.number,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
        "gas_act_required": bool(contract.gas_act_required),
    }
    with _unique("number", _l("A contract with this number already exists.")):
        contract.number, contract.start_date, contract.end_date = number, start_date, end_date
        if gas_act_required is not None:
            contract.gas_act_required = bool(gas_act_required)
    after = {
        "number": number,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat() if end_date else None,
        "gas_act_required": bool(contract.gas_act_required),
    }
    _audit_changes("metering.contract_updated", contract, before, after)
    return contract


def add_tariff(contract: Contract, valid_from: date, price, *, vat_category="general") -> Tariff:
    """A new price from a date; periods already charged keep the price they were charged at."""
    price = _parse_price(price)
    vat_category = _vat_category(vat_category)
    if valid_from < contract.start_date:
        raise UserError(
            _(
                "The contract starts on %(date)s; a tariff cannot start earlier.",
                date=local_date(contract.start_date),
            ),
            "valid_from",
        )
    if contract.end_date is not None and valid_from > contract.end_date:
        raise UserError(
            _(
                "The contract ends on %(date)s; a tariff cannot start later.",
                date=local_date(contract.end_date),
            ),
            "valid_from",
        )
    # The charge run locks the contract too: no charge can be posted between check and insert.
    db.session.scalar(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    charged = last_charged_period(contract.id)
    if charged is not None and clock.month_start(valid_from) <= charged:
        raise UserError(
            _(
                "Gas is already charged under this contract up to %(month)s: a tariff can "
                "only start from %(first)s or later.",
                month=month_label(charged),
                first=local_date(clock.month_start(charged + timedelta(days=32))),
            ),
            "valid_from",
        )
    if any(tariff.valid_from == valid_from for tariff in contract.tariffs):
        raise UserError(_l("The contract already has a tariff from this date."), "valid_from")
    tariff = Tariff(
        contract_id=contract.id,
        valid_from=valid_from,
        price_per_thousand=price,
        vat_category=vat_category,
    )
    with _unique("valid_from", _l("The contract already has a tariff from this date.")):
        db.session.add(tariff)
    db.session.refresh(contract, ["tariffs"])
    audit.record(
        "metering.tariff_added",
        target=contract,
        organisation=contract.organisation_id,
        valid_from=valid_from.isoformat(),
        price_per_thousand=str(price),
        vat_category=vat_category,
    )
    return tariff


@dataclass
class MeterFields:
    contract_id: object
    serial_number: str
    model: str
    digits: object
    max_flow: object
    verification_due: date | None
    address: str


def _organisation_contract(organisation, contract_id):
    if contract_id in (None, "", 0):
        return None
    contract = db.session.get(Contract, int(contract_id))
    if contract is None or contract.organisation_id != organisation.id:
        raise UserError(_l("Choose one of this organisation's contracts."), "contract_id")
    return contract.id


def _checked_meter_fields(organisation, fields: MeterFields, meter_id=None) -> dict:
    contract_id = _organisation_contract(organisation, fields.contract_id)
    if contract_id is None:
        raise UserError(_l("Choose one of this organisation's contracts."), "contract_id")
    serial = _clean(fields.serial_number)
    if not serial:
        raise UserError(_l("Enter the serial number."), "serial_number")
    taken = db.session.scalar(select(MeteringPoint.id).where(MeteringPoint.serial_number == serial))
    if taken is not None and taken != meter_id:
        raise UserError(_l("A meter with this serial number already exists."), "serial_number")
    model = _clean(fields.model)
    if not model:
        raise UserError(_l("Enter the meter model."), "model")
    try:
        digits = parse_whole(fields.digits, max_digits=2)
    except NumberError as error:
        message = _l("Enter the number of digits as a whole number.")
        raise UserError(message, "digits") from error
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise UserError(
            _("A meter has from %(low)s to %(high)s digits.", low=MIN_DIGITS, high=MAX_DIGITS),
            "digits",
        )
    try:
        max_flow = parse_decimal(fields.max_flow, max_digits=8)
    except NumberError as error:
        raise UserError(_l("Enter the maximum flow as a number."), "max_flow") from error
    if not max_flow.is_finite() or max_flow <= 0:
        raise UserError(_l("The maximum flow must be greater than zero."), "max_flow")
    if max_flow >= Decimal("100000000") or max_flow != max_flow.quantize(Decimal("0.01")):
        raise UserError(_l("Enter the maximum flow with at most two decimal places."), "max_flow")
    address = _clean(fields.address)
    if not address:
        raise UserError(_l("Enter the address."), "address")
    return {
        "contract_id": contract_id,
        "serial_number": serial,
        "model": model,
        "digits": digits,
        "max_flow": max_flow,
        "verification_due": fields.verification_due,
        "address": address,
    }


def _audit_meter_values(values: dict) -> dict:
    return {
        key: value.isoformat() if isinstance(value, date) else str(value) if value else value
        for key, value in values.items()
    }


def create_meter(
    organisation, fields: MeterFields, initial_value, initial_date: date, user
) -> MeteringPoint:
    """A new metering point with the reading it starts from (consumption counts from there)."""
    if not organisation.is_gas:
        raise UserError(_l("Meters are only for gas customers."), "serial_number")
    values = _checked_meter_fields(organisation, fields)
    value = parse_volume(initial_value, "initial_value")
    if value >= Decimal(10) ** values["digits"]:
        raise UserError(
            _("The meter shows at most %(digits)s digits.", digits=values["digits"]),
            "initial_value",
        )
    if initial_date > clock.local_today():
        raise UserError(_l("The reading date cannot be in the future."), "initial_date")
    meter = MeteringPoint(organisation_id=organisation.id, is_active=True, **values)
    with _unique("serial_number", _l("A meter with this serial number already exists.")):
        db.session.add(meter)
    reading = Reading(
        organisation_id=organisation.id,
        metering_point_id=meter.id,
        period=clock.month_start(initial_date),
        reading_date=initial_date,
        value=value,
        consumption=None,
        source=ReadingSource.STAFF,
        entered_by_id=getattr(user, "id", None),
    )
    db.session.add(reading)
    db.session.flush()
    audit.record(
        "metering.meter_created",
        target=meter,
        organisation=organisation,
        initial_value=str(value),
        initial_date=initial_date.isoformat(),
        **_audit_meter_values(values),
    )
    return meter


def update_meter(meter: MeteringPoint, fields: MeterFields) -> MeteringPoint:
    organisation = db.session.get(Organisation, meter.organisation_id)
    values = _checked_meter_fields(organisation, fields, meter.id)
    highest = db.session.scalar(
        select(func.max(Reading.value)).where(Reading.metering_point_id == meter.id)
    )
    if highest is not None and highest >= Decimal(10) ** values["digits"]:
        raise UserError(
            _(
                "The meter already has a reading of %(value)s: it needs more digits.",
                value=format_volume(highest),
            ),
            "digits",
        )
    before = _audit_meter_values({key: getattr(meter, key) for key in values})
    with _unique("serial_number", _l("A meter with this serial number already exists.")):
        for key, value in values.items():
            setattr(meter, key, value)
    after = _audit_meter_values(values)
    _audit_changes("metering.meter_updated", meter, before, after)
    return meter


def deactivate_meter(meter: MeteringPoint) -> None:
    """Take a meter out of the readings form; its readings and charges stay in the history."""
    if not meter.is_active:
        raise UserError(_l("The meter is already deactivated."))
    meter.is_active = False
    db.session.flush()
    audit.record(
        "metering.meter_deactivated",
        target=meter,
        organisation=meter.organisation_id,
        serial_number=meter.serial_number,
    )
