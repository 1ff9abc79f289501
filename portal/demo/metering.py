"""Demo gas data: contracts, eight meters, two years of readings, charges and payments."""

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import clock
from portal.billing import gas, ledger, payments
from portal.extensions import db
from portal.metering import window
from portal.metering.models import Contract, MeteringPoint, Reading, ReadingSource, Tariff
from portal.organisations.models import Organisation

DEMO_INN = "5260134566"
CONTRACTS = [
    ("ГП-52-0117/23", "Котельная цеха №1", ["СГ-16МТ-100", "RVG G65", "СГ-16МТ-100"]),
    ("ГП-52-0118/23", "Литейный участок", ["TRZ G160", "RVG G100", "СГ-16МТ-250"]),
    ("ГП-52-0342/24", "Административный корпус", ["ВК-G25", "ВК-G16"]),
]
FLOWS = {
    "СГ-16МТ-100": "100",
    "RVG G65": "100",
    "TRZ G160": "250",
    "RVG G100": "160",
    "СГ-16МТ-250": "250",
    "ВК-G25": "40",
    "ВК-G16": "25",
}


def _months_back(today: date, count: int) -> list[date]:
    period = clock.month_start(today)
    months = []
    for _ in range(count):
        period = window.previous_month(period)
        months.append(period)
    return list(reversed(months))


def seed():
    organisation = db.session.scalar(select(Organisation).where(Organisation.inn == DEMO_INN))
    if organisation is None or db.session.scalar(
        select(Contract.id).where(Contract.organisation_id == organisation.id).limit(1)
    ):
        return
    rng = random.Random(5260134566)  # noqa: S311 - demo figures, not security
    today = clock.local_today()
    months = _months_back(today, 24)
    start = months[0].replace(day=1) - timedelta(days=31)
    tariff_change = months[12]
    meters = []
    serial = 41780000
    for number, (contract_number, site, models) in enumerate(CONTRACTS):
        contract = Contract(
            organisation_id=organisation.id,
            number=contract_number,
            start_date=start,
            # The foundry's contract requires an «Акт приёма-передачи газа» each month.
            gas_act_required=contract_number == "ГП-52-0118/23",
        )
        contract.tariffs = [
            Tariff(valid_from=start, price_per_thousand=Decimal("7850.00") + number * 150),
            Tariff(valid_from=tariff_change, price_per_thousand=Decimal("8640.00") + number * 150),
        ]
        db.session.add(contract)
        db.session.flush()
        for index, model in enumerate(models, start=1):
            serial += 1317
            meters.append(
                MeteringPoint(
                    organisation_id=organisation.id,
                    contract_id=contract.id,
                    address=f"г. Нижний Новгород, ул. Заводская, д. 12, {site}, ввод {index}",
                    serial_number=str(serial),
                    model=model,
                    digits=8 if model.startswith(("СГ", "TRZ", "RVG")) else 6,
                    max_flow=Decimal(FLOWS[model]),
                    verification_due=date(today.year + 1 + index % 3, 1 + index * 3, 1),
                )
            )
    db.session.add_all(meters)
    db.session.flush()
    for meter in meters:
        value = Decimal(rng.randint(10000, 90000))
        base = Decimal(FLOWS[meter.model]) * 24 * 30 * Decimal("0.18")
        previous_date = None
        for period in months:
            # Heating season burns more gas: a seasonal factor keeps the chart realistic.
            seasonal = Decimal("1.6") if period.month in (11, 12, 1, 2, 3) else Decimal("0.8")
            consumption = (base * seasonal * Decimal(rng.uniform(0.85, 1.15))).quantize(
                Decimal("1")
            )
            reading_date = period.replace(day=22)
            value += consumption
            db.session.add(
                Reading(
                    organisation_id=organisation.id,
                    metering_point_id=meter.id,
                    period=period,
                    reading_date=reading_date,
                    value=value,
                    consumption=consumption if previous_date else None,
                    source=ReadingSource.FORM,
                )
            )
            previous_date = reading_date
    db.session.flush()
    for period in months[1:]:
        gas.post_gas_charges(period)
    contracts = db.session.scalars(
        select(Contract).where(Contract.organisation_id == organisation.id).order_by(Contract.id)
    ).all()
    for period in months[1:-1]:
        paid_on = window.day_in_month(clock.month_start(period + timedelta(days=32)), 10)
        for contract in contracts:
            # One payment order per contract and month, naming the contract it pays.
            charged = sum(
                entry.debit
                for entry in ledger.entries(
                    organisation.id,
                    start=period,
                    end=window.day_in_month(period, 31),
                    contract_id=contract.id,
                )
                if entry.kind == ledger.EntryKind.CHARGE
            )
            if not charged:
                continue
            if period == months[-2] and contract.number == CONTRACTS[1][0]:
                # The foundry paid the last month only in part: an overdue balance for the
                # receivables report and the payment reminders.
                charged = (charged * Decimal("0.6")).quantize(Decimal("0.01"))
            payments.enter_payment(
                organisation,
                charged,
                paid_on,
                f"{rng.randint(1000, 9999)}",
                None,
                purpose=f"Оплата за газ за {period:%m.%Y} по договору {contract.number}, "
                "в т.ч. НДС",
            )
    db.session.flush()
