"""The settlement account: one ledger for both kinds of customer.

Charges (shipments, gas consumption) are debits, payments are credits, adjustments may be
either. The balance is debits minus credits: positive means the customer owes, negative
means an overpayment. Orders and metering post here; statements read from here.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal import audit
from portal.billing import allocation
from portal.billing.models import EntryKind, LedgerEntry
from portal.billing.purpose import read_purpose
from portal.billing.texts import LedgerText
from portal.errors import UserError
from portal.extensions import db
from portal.money import to_money

__all__ = ["EntryKind", "LedgerEntry", "UserError", "balance", "entries"]


def _post(organisation_id, kind, *, entry_date, description, debit=0, credit=0, **fields):
    """`description`: a LedgerText the portal composed (stored as its code and parameters, and
    in Russian), or a text a person typed (stored as typed)."""
    if isinstance(description, LedgerText):
        fields.update(text_code=description.code, text_params=description.params)
        description = description.russian()
    entry = LedgerEntry(
        organisation_id=organisation_id,
        kind=kind,
        entry_date=entry_date,
        description=description,
        debit=to_money(debit),
        credit=to_money(credit),
        vat_amount=to_money(fields.pop("vat_amount", 0)),
        **fields,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def post_charge(organisation_id, amount, *, entry_date, description, **fields) -> LedgerEntry:
    """Debit the customer: a shipment or a monthly gas charge (amount includes VAT).

    Money the customer paid in advance is applied to the new charge at once."""
    if to_money(amount) < 0:
        raise UserError("a charge cannot be negative")
    entry = _post(
        organisation_id,
        EntryKind.CHARGE,
        entry_date=entry_date,
        description=description,
        debit=amount,
        **fields,
    )
    allocation.apply_prepayments(entry)  # money paid in advance for this very order first
    allocation.allocate_open(organisation_id)
    return entry


def post_payment(
    organisation_id, amount, *, entry_date, description, purpose=None, **fields
) -> LedgerEntry:
    """Credit the customer with a payment received, and allocate it (see allocation).

    Without an explicit contract, the contract or document named in `purpose` decides."""
    if to_money(amount) <= 0:
        raise UserError("a payment must be positive")
    named = read_purpose(organisation_id, purpose) if purpose else None
    if named and fields.get("contract_id") is None and named.contract_id is not None:
        fields["contract_id"] = named.contract_id
    if named and named.order_id is not None:
        # A prepayment for an order not yet charged: kept for it (allocation.apply_prepayments).
        fields["source_type"] = allocation.PREPAYMENT_SOURCE
        fields["source_id"] = named.order_id
    entry = _post(
        organisation_id,
        EntryKind.PAYMENT,
        entry_date=entry_date,
        description=description,
        credit=amount,
        purpose=(purpose or "").strip()[:500] or None,
        **fields,
    )
    audit.record("ledger.payment", target=entry, amount=str(entry.credit))
    if named and named.charge is not None:
        allocation.allocate_to_named(entry, named.charge)
    allocation.allocate_open(organisation_id)
    return entry


def post_adjustment(organisation_id, amount, *, entry_date, reason, **fields) -> LedgerEntry:
    """A correction with a reason: positive increases the debt, negative reduces it."""
    amount = to_money(amount)
    if amount == 0:
        raise UserError("an adjustment of zero changes nothing")
    if not isinstance(reason, LedgerText) and (not reason or not reason.strip()):
        raise UserError("an adjustment needs a reason")
    entry = _post(
        organisation_id,
        EntryKind.ADJUSTMENT,
        entry_date=entry_date,
        description=reason,
        debit=max(amount, 0),
        credit=max(-amount, 0),
        **fields,
    )
    audit.record("ledger.adjustment", target=entry, amount=str(amount), reason=entry.description)
    if entry.debit > 0:
        allocation.allocate_open(organisation_id)
    return entry


def _filtered(query, organisation_id, contract_id):
    query = query.where(LedgerEntry.organisation_id == organisation_id)
    if contract_id is not None:
        query = query.where(LedgerEntry.contract_id == contract_id)
    return query


def balance(organisation_id, *, before: date | None = None, contract_id=None) -> Decimal:
    """Debt (positive) or overpayment (negative), optionally as of the start of a date."""
    query = _filtered(
        select(func.coalesce(func.sum(LedgerEntry.debit - LedgerEntry.credit), 0)),
        organisation_id,
        contract_id,
    )
    if before is not None:
        query = query.where(LedgerEntry.entry_date < before)
    return to_money(db.session.scalar(query))


def entries(
    organisation_id, *, start: date | None = None, end: date | None = None, contract_id=None
):
    """Entries in date order, inclusive of both ends."""
    query = _filtered(select(LedgerEntry), organisation_id, contract_id)
    if start is not None:
        query = query.where(LedgerEntry.entry_date >= start)
    if end is not None:
        query = query.where(LedgerEntry.entry_date <= end)
    return db.session.scalars(query.order_by(LedgerEntry.entry_date, LedgerEntry.id)).all()
