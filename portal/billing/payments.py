"""Payments and adjustments staff enter, and the account's operations with running balance."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.billing import ledger, lookups
from portal.billing.models import EntryKind, LedgerEntry
from portal.billing.purpose import read_purpose
from portal.billing.texts import LedgerText
from portal.errors import UserError
from portal.extensions import db
from portal.money import MoneyError, to_money


def _organisation_contract(organisation, contract_id):
    if contract_id in (None, "", 0):
        return None
    contract = lookups.contracts().get(int(contract_id))
    if contract is None or contract.organisation_id != organisation.id:
        raise UserError(_l("Choose one of this organisation's contracts."), "contract_id")
    return contract.id


def enter_payment(
    organisation, amount, entry_date: date, document_number, user, *, contract_id=None, purpose=None
):
    """Staff record a payment received; a document number is accepted once per organisation.

    The payment is allocated at once (see allocation): to the contract chosen, or else to the
    contract or document its purpose names, or else to the organisation's oldest charges."""
    if entry_date > clock.local_today():
        raise UserError(_l("The payment date cannot be in the future."), "entry_date")
    try:
        amount = to_money(amount)
    except MoneyError as error:
        raise UserError(_l("Enter the amount as a number."), "amount") from error
    if amount <= 0:
        raise UserError(_l("The amount must be positive."), "amount")
    document_number = (document_number or "").strip()
    if payment_exists(organisation.id, document_number, entry_date):
        raise UserError(
            _l("A payment with this document number and date is already recorded."),
            "document_number",
        )
    contract = _organisation_contract(organisation, contract_id)
    purpose = (purpose or "").strip()
    if purpose:
        named = read_purpose(organisation.id, purpose)
        if named.error:
            raise UserError(named.error, "purpose")
    return ledger.post_payment(
        organisation.id,
        amount,
        entry_date=entry_date,
        description=LedgerText("payment", number=document_number),
        document_number=document_number,
        contract_id=contract,
        purpose=purpose or None,
        source_type="payment",
        created_by_id=getattr(user, "id", None),
    )


def payment_exists(organisation_id, document_number, entry_date) -> bool:
    return (
        db.session.scalar(
            select(LedgerEntry.id).where(
                LedgerEntry.organisation_id == organisation_id,
                LedgerEntry.kind == EntryKind.PAYMENT,
                LedgerEntry.document_number == document_number,
                LedgerEntry.entry_date == entry_date,
            )
        )
        is not None
    )


def enter_adjustment(organisation, amount, entry_date: date, reason, user, *, contract_id=None):
    try:
        amount = to_money(amount)
    except MoneyError as error:
        raise UserError(_l("Enter the amount as a number."), "amount") from error
    if amount == 0:
        raise UserError(_l("An adjustment of zero changes nothing."), "amount")
    if not (reason or "").strip():
        raise UserError(_l("Give the reason for the adjustment."), "reason")
    contract = _organisation_contract(organisation, contract_id)
    return ledger.post_adjustment(
        organisation.id,
        amount,
        entry_date=entry_date,
        reason=reason.strip(),
        contract_id=contract,
        created_by_id=getattr(user, "id", None),
    )


@dataclass
class Operation:
    entry: object
    balance: Decimal


def account_operations(organisation_id) -> tuple[list[Operation], Decimal]:
    """Ledger entries newest first, each with the running balance after it."""
    running = Decimal("0.00")
    operations = []
    for entry in ledger.entries(organisation_id):
        running += entry.debit - entry.credit
        operations.append(Operation(entry, running))
    operations.reverse()
    return operations, running
