"""Monthly gas charges: each contract's consumption priced at its tariff, posted to the ledger."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.billing import ledger
from portal.billing.errors import BillingError
from portal.billing.models import GasCharge
from portal.extensions import db
from portal.formatting import format_volume
from portal.metering.models import Contract, MeteringPoint, Reading
from portal.money import to_money, vat_on_top

THOUSAND = Decimal(1000)


@dataclass
class ChargeCalculation:
    volume: Decimal
    net: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


def calculate_charge(contract: Contract, period: date) -> ChargeCalculation | None:
    """Consumption × the tariff in force on each reading's date, VAT per line; None if no data."""
    readings = db.session.scalars(
        select(Reading)
        .join(MeteringPoint, MeteringPoint.id == Reading.metering_point_id)
        .where(MeteringPoint.contract_id == contract.id, Reading.period == period)
    ).all()
    volume, net, vat = Decimal(0), Decimal("0.00"), Decimal("0.00")
    for reading in readings:
        if not reading.consumption:
            continue
        tariff = contract.tariff_on(reading.reading_date)
        if tariff is None:
            raise BillingError(
                _(
                    "Contract %(number)s has no tariff on %(date)s.",
                    number=contract.number,
                    date=reading.reading_date.strftime("%d.%m.%Y"),
                )
            )
        line_net = to_money(reading.consumption * tariff.price_per_thousand / THOUSAND)
        volume += reading.consumption
        net += line_net
        vat += vat_on_top(line_net, tariff.vat_rate)
    if not readings:
        return None
    return ChargeCalculation(volume, net, vat)


@dataclass
class ChargeOutcome:
    contract: Contract
    status: str  # "posted", "unchanged", "recalculated", "no readings"
    amount: Decimal = Decimal("0.00")


def _month_label(period: date) -> str:
    return period.strftime("%m.%Y")


def post_gas_charges(period: date) -> list[ChargeOutcome]:
    """Charge every contract for a month; running it again posts only recalculations."""
    period = clock.month_start(period)
    contracts = db.session.scalars(
        select(Contract).options(selectinload(Contract.tariffs)).order_by(Contract.id)
    ).all()
    outcomes = [post_gas_month(contract, period) for contract in contracts]
    db.session.flush()
    return outcomes


def post_gas_month(contract: Contract, period: date) -> ChargeOutcome:
    """Charge one contract for one month, or post the difference when its readings changed."""
    period = clock.month_start(period)
    # Serialises with add_tariff: a new tariff never slips under a charge being posted.
    db.session.scalar(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    calculation = calculate_charge(contract, period)
    if calculation is None:
        return ChargeOutcome(contract, "no readings")
    charge = db.session.scalar(
        select(GasCharge)
        .where(GasCharge.contract_id == contract.id, GasCharge.period == period)
        .with_for_update()
    )
    entry_date = clock.month_end(period)
    if charge is None:
        charge = GasCharge(
            organisation_id=contract.organisation_id,
            contract_id=contract.id,
            period=period,
            volume=calculation.volume,
            net_amount=calculation.net,
            vat_amount=calculation.vat,
            total=calculation.total,
        )
        db.session.add(charge)
        db.session.flush()
        with force_locale("ru"):
            description = _(
                "Gas supply for %(month)s, contract %(number)s: %(volume)s m³",
                month=_month_label(period),
                number=contract.number,
                volume=format_volume(calculation.volume),
            )
        entry = ledger.post_charge(
            contract.organisation_id,
            calculation.total,
            entry_date=entry_date,
            description=description,
            vat_amount=calculation.vat,
            contract_id=contract.id,
            document_number=f"{contract.number}/{period:%Y-%m}",
            source_type="gas_charge",
            source_id=charge.id,
        )
        charge.ledger_entry_id = entry.id
        return ChargeOutcome(contract, "posted", calculation.total)
    difference = calculation.total - charge.total
    if difference == 0:
        return ChargeOutcome(contract, "unchanged")
    with force_locale("ru"):
        reason = _(
            "Recalculation for %(month)s, contract %(number)s after corrected readings",
            month=_month_label(period),
            number=contract.number,
        )
    ledger.post_adjustment(
        contract.organisation_id,
        difference,
        entry_date=max(entry_date, clock.local_today()),
        reason=reason,
        contract_id=contract.id,
        source_type="gas_charge_recalc",
        source_id=charge.id,
    )
    charge.volume, charge.net_amount = calculation.volume, calculation.net
    charge.vat_amount, charge.total = calculation.vat, calculation.total
    db.session.flush()
    return ChargeOutcome(contract, "recalculated", difference)
