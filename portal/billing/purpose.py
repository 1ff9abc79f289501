"""What a payment's purpose text names: a contract («по договору ГП-52-0118/23»), a document
(an invoice, order or УПД number) or an order it prepays (portal.billing.allocation applies
the payment accordingly)."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.billing import lookups
from portal.billing.models import EntryKind, LedgerEntry
from portal.extensions import db

REFERENCE_WORDS = re.compile(
    r"договор|дог\.|счет|счёт|сч\.|заказ|упд|накладн|с/ф|счет-фактур|счёт-фактур", re.IGNORECASE
)
TOKEN = re.compile(r"[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё\-/._]*")


@dataclass
class Purpose:
    """What a payment's purpose text names, for one organisation."""

    contract_id: int | None = None
    charge: LedgerEntry | None = None
    error: str | None = None
    # A prepayment: the purpose names an order of the payer that has no charge yet. The payment
    # stays unallocated, kept for that order, and pays its shipment when it is charged.
    order_id: int | None = None


# The number right after the word naming the document: «по счёту № 2612-000042 от …».
EXPLICIT = re.compile(
    r"(?:сч[её]т[а-яё]*|сч\.|заказ[а-яё]*|упд)\s*(?:№|n|no\.?)?\s*"
    r"([0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё\-/._]*)",
    re.IGNORECASE,
)


def _tokens(text: str) -> set[str]:
    tokens = set()
    for token in TOKEN.findall(text or ""):
        token = token.rstrip("-/._")
        tokens.add(token.casefold())
        # «N52», «No.52» are written without a space.
        for prefix in ("no", "n"):
            if token.casefold().startswith(prefix) and len(token) > len(prefix):
                tokens.add(token.casefold()[len(prefix) :])
    return tokens


def read_purpose(organisation_id: int, text: str | None) -> Purpose:
    """Find the contract or the charge a purpose text names; an error if it names a stranger's.

    The number right after «счёт/заказ/УПД №» is tried first, then any word of the text. A
    purpose naming one of the payer's orders that has no charge yet (a prepayment) reads as
    Purpose(order_id=…): the payment is kept for that order, not refused."""
    explicit = [m.group(1).rstrip("-/._").casefold() for m in EXPLICIT.finditer(text or "")]
    text = (text or "").replace("№", " ")
    if not text.strip():
        return Purpose()
    tokens = _tokens(text)
    contracts = lookups.contracts().numbers()
    named = [row for row in contracts if row.number.casefold() in tokens]
    own = [row for row in named if row.organisation_id == organisation_id]
    charges = db.session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.kind != EntryKind.PAYMENT,
            LedgerEntry.debit > 0,
            LedgerEntry.document_number.isnot(None),
        )
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ).all()
    for wanted in (set(explicit), tokens):
        for charge in charges:
            if charge.document_number.casefold() in wanted:
                contract_id = charge.contract_id or (own[0].id if own else None)
                return Purpose(contract_id=contract_id, charge=charge)
    order = _named_order(organisation_id, explicit, tokens)
    if order is not None:
        # No charge yet (it is posted when the order ships): a prepayment kept for the order;
        # money for a cancelled order is an advance like any other.
        return Purpose(
            contract_id=own[0].id if own else None,
            order_id=None if order.status == "cancelled" else order.id,
        )
    if own:
        return Purpose(contract_id=own[0].id)
    if named:
        return Purpose(
            error=str(
                _l(
                    "The purpose names contract %(number)s, which is not this payer's.",
                    number=named[0].number,
                )
            )
        )
    if REFERENCE_WORDS.search(text):
        return Purpose(
            error=str(
                _l(
                    "The purpose names a contract or document this payer does not have: "
                    "«%(text)s».",
                    text=text.strip()[:120],
                )
            )
        )
    return Purpose()


def _named_order(organisation_id, explicit, tokens):
    candidates = lookups.orders().by_numbers(organisation_id, set(explicit) | tokens)
    by_number = {row.number.casefold(): row for row in candidates}
    for number in [*explicit, *sorted(tokens)]:
        if number in by_number:
            return by_number[number]
    return None
