"""VAT corrections of documents already charged at a rate that was not in force on their date.

When a new rate applies from a date (22 % from 01.01.2026) but a database went on charging the
old one, `flask correct-vat --from 2026-01-01` finds the gas months and shipments whose tax
date is on or after that day and whose VAT differs from the VAT at the rate in force, and
posts one correction per contract-month or shipment: a new ledger entry carrying the VAT
difference (the net price stays; the documents already issued are not edited). Each correction
is posted once: running the command again lists it as already corrected.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal import audit, clock
from portal.billing import ledger, lookups, tax
from portal.billing.models import GasCharge, LedgerEntry, Shipment, VatCategory
from portal.billing.texts import LedgerText
from portal.errors import UserError
from portal.extensions import db
from portal.money import rate_key, taxed_line_from_gross, to_money, vat_on_top

GAS_CORRECTION = "gas_vat_correction"
SHIPMENT_CORRECTION = "shipment_vat_correction"


@dataclass
class CorrectionLine:
    document: str
    organisation: str
    amount: Decimal = Decimal("0.00")
    reason: str = ""


@dataclass
class CorrectionReport:
    posted: list[CorrectionLine] = field(default_factory=list)
    skipped: list[CorrectionLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.posted), Decimal("0.00"))


def _already_posted(source_type, source_id) -> LedgerEntry | None:
    return db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.source_type == source_type, LedgerEntry.source_id == source_id
        )
    )


def _rates_text(rates) -> str:
    return ", ".join(f"{rate_key(rate)} %" for rate in sorted(set(rates)))


def correct_vat(since: date, until: date | None = None, *, dry_run=False) -> CorrectionReport:
    """Post the VAT corrections of gas months and shipments with a tax date in [since, until]."""
    until = until or clock.local_today()
    report = CorrectionReport()
    _correct_gas(since, until, report, dry_run)
    _correct_shipments(since, until, report, dry_run)
    db.session.flush()
    return report


def _correct_gas(since, until, report, dry_run):
    charges = db.session.scalars(
        select(GasCharge)
        .where(GasCharge.period >= clock.month_start(since), GasCharge.period <= until)
        .order_by(GasCharge.period, GasCharge.contract_id)
    ).all()
    for charge in charges:
        contract = charge.contract
        tax_date = clock.month_end(charge.period)
        document = f"{contract.number}/{charge.period:%Y-%m}"
        line = CorrectionLine(document, contract.organisation.legal_name)
        if tax_date < since or tax_date > until:
            continue
        done = _already_posted(GAS_CORRECTION, charge.id)
        if done is not None:
            line.reason = f"уже исправлено {done.entry_date:%d.%m.%Y}"
            report.skipped.append(line)
            continue
        tariff = contract.tariff_on(tax_date)
        try:
            new_rate = tax.rate_on(tariff.vat_category if tariff else "general", tax_date)
        except UserError as error:
            line.reason = str(error.message)
            report.skipped.append(line)
            continue
        # The month's net stays as charged (one line per contract); only its tax follows the
        # rate in force on the tax date.
        new_vat = vat_on_top(charge.net_amount, new_rate)
        difference = new_vat - charge.vat_amount
        if difference == 0:
            line.reason = "НДС начислен по действующей ставке"
            report.skipped.append(line)
            continue
        old_rate = charge.vat_rate
        if old_rate is None and charge.net_amount:
            old_rate = (charge.vat_amount * 100 / charge.net_amount).quantize(Decimal("0.01"))
        description = LedgerText(
            "gas_vat_added" if difference > 0 else "gas_vat_reduced",
            month=f"{charge.period:%m.%Y}",
            number=contract.number,
            date=f"{tax_date:%d.%m.%Y}",
            new_rate=rate_key(new_rate),
            old_rate=rate_key(old_rate),
            amount=abs(difference),
        )
        line.amount = difference
        report.posted.append(line)
        if dry_run:
            continue
        entry = ledger.post_adjustment(
            charge.organisation_id,
            difference,
            entry_date=max(tax_date, clock.local_today()),
            reason=description,
            contract_id=contract.id,
            document_number=f"{document}-НДС",
            vat_amount=difference,
            source_type=GAS_CORRECTION,
            source_id=charge.id,
        )
        audit.record(
            "billing.vat_corrected",
            target=entry,
            organisation=charge.organisation_id,
            document=document,
            old_rate=str(old_rate),
            new_rate=str(new_rate),
            vat_difference=str(difference),
        )
        charge.vat_amount, charge.total = new_vat, charge.net_amount + new_vat
        charge.vat_rate = new_rate
        db.session.flush()
        from portal.billing import ukd

        ukd.correct_gas_charge(charge, ukd.GAS_VAT_REASON)


def _shipment_lines(entry):
    """(category, gross, rate charged, net) per shipped line of an order's ledger charge."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == entry.source_id))
    if shipment is not None:
        return shipment.number, [
            (line.vat_category, line.amount, line.vat_rate, line.net_amount)
            for line in shipment.lines
        ]
    # Shipped before shipments were documents: the order's lines at the shipped quantities.
    order = lookups.orders().get(entry.source_id)
    lines = []
    for line in order.lines if order else []:
        gross = line.shipped_amount
        if gross <= 0:
            continue
        taxed = taxed_line_from_gross(gross, line.vat_rate)
        category = line.vat_category or VatCategory.REDUCED
        lines.append((category, gross, line.vat_rate, taxed.net))
    return (order.number if order else entry.document_number), lines


def _correct_shipments(since, until, report, dry_run):
    charges = db.session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.source_type == "order",
            LedgerEntry.kind == "charge",
            LedgerEntry.entry_date >= since,
            LedgerEntry.entry_date <= until,
        )
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).all()
    for entry in charges:
        number, lines = _shipment_lines(entry)
        document = f"УПД № {number} от {entry.entry_date:%d.%m.%Y}"
        line = CorrectionLine(document, entry.organisation.legal_name)
        done = _already_posted(SHIPMENT_CORRECTION, entry.id)
        if done is not None:
            line.reason = f"уже исправлено {done.entry_date:%d.%m.%Y}"
            report.skipped.append(line)
            continue
        difference, old_rates, new_rates = Decimal("0.00"), [], []
        try:
            for category, gross, charged_rate, net in lines:
                rate = tax.rate_on(category, entry.entry_date)
                if rate == charged_rate:
                    continue
                # The price without VAT stays; the tax of the line follows the rate in force.
                difference += vat_on_top(net, rate) - (to_money(gross) - to_money(net))
                old_rates.append(charged_rate)
                new_rates.append(rate)
        except UserError as error:
            line.reason = str(error.message)
            report.skipped.append(line)
            continue
        if difference == 0:
            line.reason = "НДС начислен по действующей ставке"
            report.skipped.append(line)
            continue
        description = LedgerText(
            "shipment_vat_added" if difference > 0 else "shipment_vat_reduced",
            number=number,
            date=f"{entry.entry_date:%d.%m.%Y}",
            new_rates=_rates_text(new_rates),
            old_rates=_rates_text(old_rates),
            amount=abs(difference),
        )
        line.amount = difference
        report.posted.append(line)
        if dry_run:
            continue
        correction = ledger.post_adjustment(
            entry.organisation_id,
            difference,
            entry_date=max(entry.entry_date, clock.local_today()),
            reason=description,
            document_number=f"{number}-НДС",
            vat_amount=difference,
            source_type=SHIPMENT_CORRECTION,
            source_id=entry.id,
        )
        audit.record(
            "billing.vat_corrected",
            target=correction,
            organisation=entry.organisation_id,
            document=document,
            old_rate=_rates_text(old_rates),
            new_rate=_rates_text(new_rates),
            vat_difference=str(difference),
        )
        shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == entry.source_id))
        if shipment is not None:
            from portal.billing import ukd

            ukd.correct_shipment_vat(shipment)
