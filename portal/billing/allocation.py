"""Payments allocated to what they pay (table payment_allocations).

A payment names what it pays in its purpose text: a contract («по договору ГП-52-0118/23») or
a document (an invoice, order or УПД number). It is applied first to the named document, then
to the oldest open charges of that contract, or, when it names no contract, to the oldest open
charges of the organisation (FIFO). Money beyond the open charges stays unallocated and is
applied to the next charges as they are posted. A manager may re-allocate a payment by hand
(audited); such a payment is left alone by the automatic rule from then on.

The open amount of a charge on any day is its debit less the allocations dated on or before
that day; the allocation date is the later of the payment's and the charge's dates.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select

from portal import audit
from portal.billing.models import EntryKind, LedgerEntry, PaymentAllocation
from portal.billing.purpose import read_purpose
from portal.errors import UserError
from portal.extensions import db
from portal.money import MoneyError, to_money
from portal.organisations.models import Organisation

ZERO = Decimal("0.00")
# The source_type of a payment kept for an order (source_id: the order) until it is charged.
PREPAYMENT_SOURCE = "order_prepayment"
# Words by which a payer names a contract or a document in the purpose of a payment.
# --- sums ---------------------------------------------------------------------------------


def _allocated_sums(entry_column, organisation_id, on: date | None):
    """Allocated amount per ledger entry named by entry_column (the payment or the charge side)."""
    query = (
        select(
            entry_column.label("entry_id"), func.sum(PaymentAllocation.amount).label("allocated")
        )
        .join(LedgerEntry, LedgerEntry.id == entry_column)
        .where(LedgerEntry.organisation_id == organisation_id)
        .group_by(entry_column)
    )
    if on is not None:
        query = query.where(PaymentAllocation.allocation_date <= on)
    return query


def _allocated_by_payment(organisation_id, *, on: date | None = None):
    return _allocated_sums(PaymentAllocation.payment_entry_id, organisation_id, on).subquery()


def _allocated_to_charge(organisation_id, *, on: date | None = None, exclude_payment=None):
    query = _allocated_sums(PaymentAllocation.charge_entry_id, organisation_id, on)
    if exclude_payment is not None:
        query = query.where(PaymentAllocation.payment_entry_id != exclude_payment)
    return query.subquery()


def unallocated_payments(organisation_id, *, on: date | None = None, contract_id=None, auto=False):
    """[(payment entry, unallocated money)] in date order, as of the end of a day."""
    allocated = _allocated_by_payment(organisation_id, on=on)
    remaining = LedgerEntry.credit - func.coalesce(allocated.c.allocated, 0)
    query = (
        select(LedgerEntry, remaining)
        .outerjoin(allocated, allocated.c.entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.kind == EntryKind.PAYMENT,
            remaining > 0,
        )
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    if on is not None:
        query = query.where(LedgerEntry.entry_date <= on)
    if contract_id is not None:
        query = query.where(LedgerEntry.contract_id == contract_id)
    if auto:
        # A prepayment kept for an order waits for the order's charge (reserved_for_order).
        charged = db.aliased(LedgerEntry)
        order_charged = select(charged.id).where(
            charged.source_type == "order",
            charged.source_id == LedgerEntry.source_id,
            charged.organisation_id == LedgerEntry.organisation_id,
        )
        query = query.where(
            or_(
                LedgerEntry.source_type.is_(None),
                LedgerEntry.source_type != PREPAYMENT_SOURCE,
                order_charged.exists(),
            )
        )
        # A payment a manager allocated by hand stays as the manager left it.
        manual = select(PaymentAllocation.id).where(
            PaymentAllocation.payment_entry_id == LedgerEntry.id,
            PaymentAllocation.created_by_id.isnot(None),
        )
        query = query.where(~manual.exists())
    return [(entry, to_money(amount)) for entry, amount in db.session.execute(query)]


def unallocated_total(organisation_id, *, on: date | None = None, contract_id=None) -> Decimal:
    rows = unallocated_payments(organisation_id, on=on, contract_id=contract_id)
    return to_money(sum((amount for _, amount in rows), ZERO))


def open_charges(
    organisation_id, *, on: date | None = None, contract_id=None, exclude_payment=None
) -> list[tuple[LedgerEntry, Decimal]]:
    """[(charge entry, open amount)] oldest first, as of the end of a day (None: today's data)."""
    allocated = _allocated_to_charge(organisation_id, on=on, exclude_payment=exclude_payment)
    remaining = LedgerEntry.debit - func.coalesce(allocated.c.allocated, 0)
    query = (
        select(LedgerEntry, remaining)
        .outerjoin(allocated, allocated.c.entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.kind != EntryKind.PAYMENT,
            LedgerEntry.debit > 0,
            remaining > 0,
        )
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    if on is not None:
        query = query.where(LedgerEntry.entry_date <= on)
    if contract_id is not None:
        query = query.where(LedgerEntry.contract_id == contract_id)
    return [(entry, to_money(amount)) for entry, amount in db.session.execute(query)]


def open_amount(charge: LedgerEntry, *, on: date | None = None) -> Decimal:
    """What is still owed on one document at the end of a day."""
    query = select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
        PaymentAllocation.charge_entry_id == charge.id
    )
    if on is not None:
        if charge.entry_date > on:
            return ZERO
        query = query.where(PaymentAllocation.allocation_date <= on)
    return to_money(charge.debit - to_money(db.session.scalar(query)))


def allocations_of(payment: LedgerEntry) -> list[PaymentAllocation]:
    return db.session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_entry_id == payment.id)
        .order_by(PaymentAllocation.id)
    ).all()


# --- allocating ----------------------------------------------------------------------------


def _lock_organisation(organisation_id):
    # Two postings for one customer (a bank import and a gas run) must not share out one charge.
    db.session.scalar(
        select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
    )


def _allocate(payment, charge, amount, user=None) -> PaymentAllocation:
    allocation = PaymentAllocation(
        payment_entry_id=payment.id,
        charge_entry_id=charge.id,
        amount=amount,
        allocation_date=max(payment.entry_date, charge.entry_date),
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(allocation)
    return allocation


def allocate_to_named(payment: LedgerEntry, charge: LedgerEntry) -> PaymentAllocation | None:
    """Apply a payment first to the document its purpose names."""
    _lock_organisation(payment.organisation_id)
    open_now = next(
        (
            still_open
            for entry, still_open in open_charges(
                payment.organisation_id, contract_id=charge.contract_id
            )
            if entry.id == charge.id
        ),
        ZERO,
    )
    amount = min(open_now, payment.credit)
    if amount <= 0:
        return None
    allocation = _allocate(payment, charge, amount)
    db.session.flush()
    return allocation


def reserved_for_order(organisation_id, order_id) -> list[tuple[LedgerEntry, Decimal]]:
    """Prepayments kept for an order, with their money not yet allocated: [(payment, money)]."""
    return [
        (entry, amount)
        for entry, amount in unallocated_payments(organisation_id)
        if entry.source_type == PREPAYMENT_SOURCE and entry.source_id == order_id
    ]


def apply_prepayments(charge: LedgerEntry) -> list[PaymentAllocation]:
    """Apply the prepayments kept for an order to the order's new charge, before FIFO."""
    if charge.source_type != "order" or charge.source_id is None:
        return []
    _lock_organisation(charge.organisation_id)
    made, still_open = [], charge.debit
    for payment, money in reserved_for_order(charge.organisation_id, charge.source_id):
        if still_open <= 0:
            break
        amount = min(money, still_open)
        made.append(_allocate(payment, charge, amount))
        still_open -= amount
    db.session.flush()
    return made


def allocate_open(organisation_id) -> list[PaymentAllocation]:
    """Apply every payment's unallocated money to the oldest open charges it may pay (FIFO)."""
    _lock_organisation(organisation_id)
    payments = unallocated_payments(organisation_id, auto=True)
    if not payments:
        return []
    charges = [list(item) for item in open_charges(organisation_id)]
    made = []
    for payment, remaining in payments:
        for item in charges:
            if remaining <= 0:
                break
            charge, still_open = item
            if still_open <= 0:
                continue
            if payment.contract_id is not None and charge.contract_id != payment.contract_id:
                continue
            amount = min(remaining, still_open)
            made.append(_allocate(payment, charge, amount))
            item[1] -= amount
            remaining -= amount
    db.session.flush()
    return made


def allocate_all() -> dict[int, int]:
    """Allocate the unallocated money of every organisation (`flask allocate-payments`)."""
    organisation_ids = db.session.scalars(
        select(LedgerEntry.organisation_id)
        .distinct()
        .where(LedgerEntry.kind == EntryKind.PAYMENT)
        .order_by(LedgerEntry.organisation_id)
    ).all()
    made = {}
    for organisation_id in organisation_ids:
        _name_contracts_from_purpose(organisation_id)
        made[organisation_id] = len(allocate_open(organisation_id))
    return made


def _name_contracts_from_purpose(organisation_id):
    """Payments recorded before allocation existed: read their purpose once for a contract."""
    payments = db.session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.kind == EntryKind.PAYMENT,
            LedgerEntry.contract_id.is_(None),
            LedgerEntry.purpose.isnot(None),
        )
    ).all()
    for payment in payments:
        purpose = read_purpose(organisation_id, payment.purpose)
        if purpose.contract_id is not None:
            payment.contract_id = purpose.contract_id


def reallocate(payment: LedgerEntry, shares: dict[int, object], user) -> list[PaymentAllocation]:
    """A manager's allocation of one payment: {charge entry id: amount}; replaces the old one."""
    if payment.kind != EntryKind.PAYMENT:
        raise UserError(_l("Only a payment can be allocated."))
    _lock_organisation(payment.organisation_id)
    amounts = {}
    for charge_id, value in shares.items():
        if value in (None, ""):
            continue
        try:
            amount = to_money(value)
        except MoneyError as error:
            raise UserError(_l("Enter the amounts as numbers.")) from error
        if amount < 0:
            raise UserError(_l("An allocated amount cannot be negative."))
        if amount > 0:
            amounts[int(charge_id)] = amount
    total = to_money(sum(amounts.values(), ZERO))
    if total > payment.credit:
        raise UserError(
            _l(
                "%(total)s is more than the payment's amount of %(amount)s.",
                total=f"{total:.2f}",
                amount=f"{payment.credit:.2f}",
            )
        )
    charges = {
        entry.id: entry
        for entry in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.id.in_(amounts))
        ).all()
    }
    open_now = dict(
        (entry.id, amount)
        for entry, amount in open_charges(payment.organisation_id, exclude_payment=payment.id)
    )
    for charge_id, amount in amounts.items():
        charge = charges.get(charge_id)
        if charge is None or charge.organisation_id != payment.organisation_id:
            raise UserError(_l("A payment can pay only its own organisation's charges."))
        if charge.kind == EntryKind.PAYMENT or charge.debit <= 0:
            raise UserError(_l("A payment can pay only charges."))
        if amount > open_now.get(charge_id, ZERO):
            raise UserError(
                _l(
                    "%(amount)s is more than is open on %(document)s (%(open)s).",
                    amount=f"{amount:.2f}",
                    document=charge.document_number or charge.text,
                    open=f"{open_now.get(charge_id, ZERO):.2f}",
                )
            )
    before = [(a.charge_entry_id, str(a.amount)) for a in allocations_of(payment)]
    db.session.execute(
        delete(PaymentAllocation).where(PaymentAllocation.payment_entry_id == payment.id)
    )
    made = [_allocate(payment, charges[cid], amount, user) for cid, amount in amounts.items()]
    if not made:
        # Nothing allocated by hand: the payment goes back to the automatic rule.
        db.session.flush()
        allocate_open(payment.organisation_id)
    db.session.flush()
    audit.record(
        "billing.payment_reallocated",
        target=payment,
        organisation=payment.organisation,
        before=before,
        after=[(cid, str(amount)) for cid, amount in amounts.items()],
    )
    return made


# --- a contract's share of the payments ----------------------------------------------------


@dataclass
class ContractCredit:
    payment: LedgerEntry
    entry_date: date
    amount: Decimal


def contract_credits(organisation_id, contract_id) -> list[ContractCredit]:
    """The payments a contract received: those naming it (less what went to other contracts)
    and the parts of other payments allocated to its charges (from the allocation's date)."""
    charge = db.aliased(LedgerEntry)
    rows = db.session.execute(
        select(
            PaymentAllocation.payment_entry_id,
            PaymentAllocation.allocation_date,
            PaymentAllocation.amount,
            charge.contract_id,
        )
        .join(charge, charge.id == PaymentAllocation.charge_entry_id)
        .where(charge.organisation_id == organisation_id)
    ).all()
    payments = {
        entry.id: entry
        for entry in db.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == organisation_id,
                LedgerEntry.kind == EntryKind.PAYMENT,
            )
        )
    }
    elsewhere: dict[int, Decimal] = {}
    borrowed: dict[tuple[int, date], Decimal] = {}
    for payment_id, day, amount, charge_contract in rows:
        payment = payments.get(payment_id)
        if payment is None:
            continue
        if payment.contract_id == contract_id and charge_contract != contract_id:
            elsewhere[payment_id] = elsewhere.get(payment_id, ZERO) + amount
        elif payment.contract_id != contract_id and charge_contract == contract_id:
            borrowed[(payment_id, day)] = borrowed.get((payment_id, day), ZERO) + amount
    credits = [
        ContractCredit(
            payment, payment.entry_date, payment.credit - elsewhere.get(payment.id, ZERO)
        )
        for payment in payments.values()
        if payment.contract_id == contract_id
    ]
    credits += [
        ContractCredit(payments[payment_id], day, amount)
        for (payment_id, day), amount in borrowed.items()
    ]
    return sorted(
        (credit for credit in credits if credit.amount > 0),
        key=lambda credit: (credit.entry_date, credit.payment.id),
    )


def has_manual_allocation(payment_id) -> bool:
    return (
        db.session.scalar(
            select(PaymentAllocation.id)
            .where(
                and_(
                    PaymentAllocation.payment_entry_id == payment_id,
                    PaymentAllocation.created_by_id.isnot(None),
                )
            )
            .limit(1)
        )
        is not None
    )
