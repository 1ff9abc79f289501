"""The settlement account of a period: what the account page, its XLSX and the «Акт сверки» show.

One function, `settlement`, gives the opening balance, the lines (each naming its primary
document) and the closing balance, for the organisation or for one contract; everything that
prints money about a period reads it, so the page, the spreadsheet and the act agree.

For one contract the payments are the contract's share (see allocation.contract_credits): a
payment naming the contract, less what a manager applied to other contracts, and the parts of
other payments allocated to the contract's charges.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.billing import allocation
from portal.billing.models import EntryKind, LedgerEntry
from portal.extensions import db
from portal.money import to_money
from portal.reports.words import MONTHS_NOMINATIVE as MONTHS

ZERO = Decimal("0.00")


def primary_document(entry: LedgerEntry, day: date | None = None) -> str:
    """The document a line stands for, as an accountant names it (Russian, as the act is)."""
    day_text = f"{entry.entry_date:%d.%m.%Y}"
    number = entry.document_number or "б/н"
    if entry.kind == EntryKind.PAYMENT:
        return f"Оплата, платёжное поручение № {number} от {day_text}"
    if entry.source_type == "gas_charge":
        month = f"{MONTHS[entry.entry_date.month - 1]} {entry.entry_date.year}"
        return f"Газ за {month}, УПД № {number} от {day_text}"
    if entry.kind == EntryKind.CHARGE:
        if entry.source_type == "order" and entry.description.startswith("Отгрузка (УПД) № "):
            return entry.description  # the УПД's own number and the order's (shipments)
        return f"Отгрузка (УПД) № {number} от {day_text}"
    if entry.source_type == "gas_charge_recalc":
        return f"Корректировка (УКД) от {day_text}: {entry.description}"
    return f"Корректировка от {day_text}: {entry.description}"


@dataclass
class SettlementLine:
    entry_id: int
    kind: str
    entry_date: date
    document: str
    debit: Decimal
    credit: Decimal
    vat: Decimal = ZERO
    balance: Decimal = ZERO  # after this line
    unallocated: Decimal = ZERO  # a payment's money not yet applied to a charge (today)

    @property
    def net(self) -> Decimal:
        return self.debit - self.vat if self.debit else ZERO


@dataclass
class Settlement:
    organisation_id: int
    contract_id: int | None
    start: date
    end: date
    opening: Decimal
    lines: list[SettlementLine] = field(default_factory=list)
    # Payments not yet applied to any charge at the end of the period: of this scope, and
    # (for a contract) the organisation's payments that name no contract.
    unallocated: Decimal = ZERO
    unallocated_elsewhere: Decimal = ZERO

    @property
    def turnover_debit(self) -> Decimal:
        return to_money(sum((line.debit for line in self.lines), ZERO))

    @property
    def turnover_credit(self) -> Decimal:
        return to_money(sum((line.credit for line in self.lines), ZERO))

    @property
    def turnover_vat(self) -> Decimal:
        return to_money(sum((line.vat for line in self.lines), ZERO))

    @property
    def closing(self) -> Decimal:
        return to_money(self.opening + self.turnover_debit - self.turnover_credit)


def _entries(organisation_id, contract_id, end):
    query = select(LedgerEntry).where(
        LedgerEntry.organisation_id == organisation_id, LedgerEntry.entry_date <= end
    )
    if contract_id is not None:
        query = query.where(
            LedgerEntry.contract_id == contract_id, LedgerEntry.kind != EntryKind.PAYMENT
        )
    return db.session.scalars(query.order_by(LedgerEntry.entry_date, LedgerEntry.id)).all()


def _line(entry, day=None, credit=None) -> SettlementLine:
    return SettlementLine(
        entry_id=entry.id,
        kind=entry.kind,
        entry_date=day or entry.entry_date,
        document=primary_document(entry),
        debit=to_money(entry.debit),
        credit=to_money(entry.credit if credit is None else credit),
        vat=to_money(entry.vat_amount if entry.debit else ZERO),
    )


def settlement(organisation_id, start: date, end: date, contract_id=None) -> Settlement:
    """Opening balance at `start`, every line of the period in date order, closing at `end`."""
    lines = [_line(entry) for entry in _entries(organisation_id, contract_id, end)]
    if contract_id is not None:
        lines += [
            _line(credit.payment, credit.entry_date, credit.amount)
            for credit in allocation.contract_credits(organisation_id, contract_id)
            if credit.entry_date <= end
        ]
        lines.sort(key=lambda line: (line.entry_date, line.kind == EntryKind.PAYMENT))
    opening = to_money(
        sum((line.debit - line.credit for line in lines if line.entry_date < start), ZERO)
    )
    result = Settlement(organisation_id, contract_id, start, end, opening)
    result.lines = [line for line in lines if line.entry_date >= start]
    running = opening
    unallocated_now = {
        entry.id: amount for entry, amount in allocation.unallocated_payments(organisation_id)
    }
    for line in result.lines:
        running += line.debit - line.credit
        line.balance = running
        if line.kind == EntryKind.PAYMENT:
            line.unallocated = unallocated_now.get(line.entry_id, ZERO)
    result.unallocated = allocation.unallocated_total(
        organisation_id, on=end, contract_id=contract_id
    )
    if contract_id is not None:
        result.unallocated_elsewhere = to_money(
            sum(
                (
                    amount
                    for entry, amount in allocation.unallocated_payments(organisation_id, on=end)
                    if entry.contract_id is None
                ),
                ZERO,
            )
        )
    return result
