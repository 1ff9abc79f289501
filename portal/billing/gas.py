"""Monthly gas charges: each contract's consumption priced at its tariff, posted to the ledger."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.billing import gas_upd, ledger, lookups, tax, ukd
from portal.billing.models import GasCharge
from portal.billing.texts import LedgerText
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import format_volume
from portal.money import TaxedLine, taxed_line_from_net, to_money

THOUSAND = Decimal(1000)


@dataclass
class GasLine:
    """One line of a month's gas charge: the volume at one tariff, in thousands of m³."""

    tariff: object
    volume: Decimal  # m³, as metered
    thousands: Decimal  # тыс. м³ with three decimals: the quantity the document prints
    taxed: TaxedLine


@dataclass
class ChargeCalculation:
    volume: Decimal
    rate: Decimal | None
    lines: list[GasLine] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return sum((line.taxed.net for line in self.lines), Decimal("0.00"))

    @property
    def vat(self) -> Decimal:
        return sum((line.taxed.vat for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


def calculate_charge(contract, period: date) -> ChargeCalculation | None:
    """A month's charge of a contract: one line per tariff in force (usually one), VAT per line.

    Volume in тыс. м³ rounded to three decimals × the tariff per 1,000 m³, rounded to the
    kopeck; VAT on top at the tariff category's rate on the last day of the month (the tax
    date). None when the month has no readings.
    """
    readings = lookups.contracts().readings(contract.id, period)
    if not readings:
        return None
    tax_date = clock.month_end(period)
    by_tariff: dict[int, tuple] = {}
    for reading in readings:
        if not reading.consumption:
            continue
        tariff = contract.tariff_on(reading.reading_date)
        if tariff is None:
            raise UserError(
                _(
                    "Contract %(number)s has no tariff on %(date)s.",
                    number=contract.number,
                    date=reading.reading_date.strftime("%d.%m.%Y"),
                )
            )
        known, volume = by_tariff.get(tariff.id, (tariff, Decimal(0)))
        by_tariff[tariff.id] = (known, volume + reading.consumption)
    rates = {}
    calculation = ChargeCalculation(Decimal(0), None)
    for tariff, volume in sorted(by_tariff.values(), key=lambda pair: pair[0].valid_from):
        category = tariff.vat_category
        if category not in rates:
            rates[category] = tax.rate_on(category, tax_date)
        thousands = (volume / THOUSAND).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        taxed = taxed_line_from_net(
            to_money(thousands * tariff.price_per_thousand), rates[category]
        )
        calculation.lines.append(GasLine(tariff, volume, thousands, taxed))
        calculation.volume += volume
    # The charge records its (first) line's rate: a contract's tariffs share a category in
    # practice. A month with readings but no consumption has no lines and no rate to record.
    if calculation.lines:
        calculation.rate = calculation.lines[0].taxed.rate
    return calculation


@dataclass
class ChargeOutcome:
    contract: object  # the gas contract (portal.billing.lookups)
    status: str  # "posted", "unchanged", "recalculated", "no readings"
    amount: Decimal = Decimal("0.00")


def _month_label(period: date) -> str:
    return period.strftime("%m.%Y")


def post_gas_charges(period: date) -> list[ChargeOutcome]:
    """Charge every contract for a month; running it again posts only recalculations."""
    period = clock.month_start(period)
    contracts = lookups.contracts().all_with_tariffs()
    outcomes = [post_gas_month(contract, period) for contract in contracts]
    db.session.flush()
    return outcomes


def post_gas_month(contract, period: date) -> ChargeOutcome:
    """Charge one contract for one month, or post the difference when its readings changed."""
    period = clock.month_start(period)
    # Serialises with add_tariff: a new tariff never slips under a charge being posted.
    lookups.contracts().lock(contract.id)
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
            vat_rate=calculation.rate,
            total=calculation.total,
        )
        db.session.add(charge)
        db.session.flush()
        with force_locale("ru"):  # the figure as the Russian documents print it
            volume = format_volume(calculation.volume)
        description = LedgerText(
            "gas_charge", month=_month_label(period), number=contract.number, volume=volume
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
        # The month's УПД (series «Г»), numbered in the same transaction as the charge.
        gas_upd.issue_gas_upd(charge)
        return ChargeOutcome(contract, "posted", calculation.total)
    difference = calculation.total - charge.total
    if difference == 0:
        return ChargeOutcome(contract, "unchanged")
    reason = LedgerText("gas_recalculation", month=_month_label(period), number=contract.number)
    # The adjustment carries its own VAT: the VAT the month should bear minus what it bore.
    ledger.post_adjustment(
        contract.organisation_id,
        difference,
        entry_date=max(entry_date, clock.local_today()),
        reason=reason,
        contract_id=contract.id,
        vat_amount=calculation.vat - charge.vat_amount,
        source_type="gas_charge_recalc",
        source_id=charge.id,
    )
    charge.volume, charge.net_amount = calculation.volume, calculation.net
    charge.vat_amount, charge.total = calculation.vat, calculation.total
    charge.vat_rate = calculation.rate
    db.session.flush()
    # The УПД of the month stays as issued; the change is a УКД of its own.
    ukd.correct_gas_charge(charge, ukd.GAS_REASON)
    return ChargeOutcome(contract, "recalculated", difference)
