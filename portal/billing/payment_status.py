"""What is paid and what is overdue: the payment status of each invoice, shipment and gas month.

Derived from the allocation (portal.billing.allocation), never stored: a document's open
balance is its charge less the payments allocated to it as of a day; before an order ships it
has no charge, and its invoice counts the prepayments kept for it (allocation.reserved_for_order).

The due date comes from the payment terms (portal.billing.terms).

A document is paid when nothing is open, overdue when something is open after the due date
(with the days), partly paid when some of it is paid, otherwise unpaid.

Public functions (the reminders and the receivables report call them):
- `document_status(document, on=None)` — an Order or a ledger charge (LedgerEntry);
- `organisation_open_documents(organisation_id, on=None, include_invoices=False)`;
- `order_statuses(orders, on=None)` — {order id: status} for a list page;
- `due_date_of(entry, order=None)`.
"""

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.billing import allocation, lookups, terms
from portal.billing.models import EntryKind, GasCharge, LedgerEntry, Shipment
from portal.billing.settlements import primary_document
from portal.extensions import db
from portal.money import rate_key, to_money

ZERO = Decimal("0.00")


class PaymentState(enum.StrEnum):
    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    OVERDUE = "overdue"

    @property
    def label(self):
        return {
            PaymentState.UNPAID: _l("Unpaid"),
            PaymentState.PARTLY_PAID: _l("Partly paid"),
            PaymentState.PAID: _l("Paid"),
            PaymentState.OVERDUE: _l("Overdue"),
        }[self]

    @property
    def badge(self) -> str:
        return {
            PaymentState.UNPAID: "text-bg-secondary",
            PaymentState.PARTLY_PAID: "text-bg-info",
            PaymentState.PAID: "text-bg-success",
            PaymentState.OVERDUE: "text-bg-danger",
        }[self]


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"  # an order's invoice before the order ships
    SHIPMENT = "shipment"  # the УПД of a shipped order
    GAS_MONTH = "gas_month"
    OTHER = "other"  # a debit correction


@dataclass
class DocumentStatus:
    kind: DocumentKind
    number: str
    document_date: date
    amount: Decimal  # the document's total
    paid: Decimal  # allocated to it (for an invoice: prepayments kept for the order)
    open_amount: Decimal
    due_date: date | None
    days_overdue: int
    state: PaymentState
    on: date
    entry_id: int | None = None
    order_id: int | None = None
    contract_id: int | None = None
    description: str = ""
    title: str = ""  # the document as an accountant names it (settlements.primary_document)
    # The VAT in the document by rate (percent; None: a correction of unknown rate).
    vat_by_rate: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.state == PaymentState.OVERDUE:
            return str(_l("Overdue: %(days)s d.", days=self.days_overdue))
        return str(self.state.label)

    @property
    def is_overdue(self) -> bool:
        return self.state == PaymentState.OVERDUE


def invoice_date(order) -> date:
    """The invoice's date: the day the order was placed, in the portal's time zone."""
    return terms.local_date(order.created_at)


def invoice_due_date(order) -> date | None:
    """When the invoice of an order is due: prepayment — by the payment terms; deferred
    payment — None until the order ships (then see due_date_of)."""
    if order.payment_terms == "prepayment":
        return terms.prepayment_due(order)
    return None


def due_date_of(entry: LedgerEntry, order=None) -> date:
    """The due date of a ledger charge (portal.billing.terms); `order`: its order, if known."""
    if order is None and entry.source_type == "order":
        order = lookups.orders().get(entry.source_id)
    if order is not None:  # a shipment, or a correction of one
        return terms.order_due(order, shipped_on=entry.entry_date)
    if entry.source_type == "gas_charge" or entry.contract_id is not None:
        return terms.gas_due(entry.entry_date)
    return terms.other_debit_due(entry.entry_date)


def _state(amount, paid, open_amount, due, on) -> tuple[PaymentState, int]:
    if open_amount <= 0:
        return PaymentState.PAID, 0
    if due is not None and on > due:
        return PaymentState.OVERDUE, (on - due).days
    if paid > 0:
        return PaymentState.PARTLY_PAID, 0
    return PaymentState.UNPAID, 0


def _kind(entry) -> DocumentKind:
    if entry.source_type == "order" and entry.kind == EntryKind.CHARGE:
        return DocumentKind.SHIPMENT
    if entry.source_type == "gas_charge":
        return DocumentKind.GAS_MONTH
    return DocumentKind.OTHER


def _vat_of_entries(entries) -> dict[int, dict]:
    """{entry id: {rate: VAT}} from the shipments' lines and the gas months' rates."""
    ids = [entry.id for entry in entries]
    vat: dict[int, dict] = {}
    if not ids:
        return vat
    shipments = db.session.scalars(
        select(Shipment)
        .where(Shipment.ledger_entry_id.in_(ids))
        .options(selectinload(Shipment.lines))
    ).all()
    for shipment in shipments:
        rates: dict = {}
        for line in shipment.lines:
            if line.vat_category == "without":
                continue
            key = rate_key(line.vat_rate)
            rates[key] = rates.get(key, ZERO) + line.vat_amount
        vat[shipment.ledger_entry_id] = rates
    for charge in db.session.scalars(select(GasCharge).where(GasCharge.ledger_entry_id.in_(ids))):
        if charge.vat_rate is not None:
            vat[charge.ledger_entry_id] = {rate_key(charge.vat_rate): charge.vat_amount}
    for entry in entries:
        vat.setdefault(entry.id, {None: entry.vat_amount} if entry.vat_amount else {})
    return vat


def _orders(entries) -> dict:
    return lookups.orders().get_many(
        {entry.source_id for entry in entries if entry.source_type == "order"}
    )


def _entry_status(entry, open_amount, on, order, vat) -> DocumentStatus:
    due = due_date_of(entry, order)
    paid = to_money(entry.debit - open_amount)
    state, days = _state(entry.debit, paid, open_amount, due, on)
    return DocumentStatus(
        kind=_kind(entry),
        number=entry.document_number or "",
        document_date=entry.entry_date,
        amount=entry.debit,
        paid=paid,
        open_amount=open_amount,
        due_date=due,
        days_overdue=days,
        state=state,
        on=on,
        entry_id=entry.id,
        order_id=order.id if order is not None else None,
        contract_id=entry.contract_id,
        description=entry.text,
        title=primary_document(entry),
        vat_by_rate=vat,
    )


def _invoice_status(order, on) -> DocumentStatus:
    from portal.billing.payment_qr import invoice_lines

    kept = allocation.unallocated_payments(order.organisation_id, on=on)
    paid = to_money(
        sum(
            (
                money
                for payment, money in kept
                if payment.source_type == allocation.PREPAYMENT_SOURCE
                and payment.source_id == order.id
            ),
            ZERO,
        )
    )
    open_amount = max(to_money(order.total - paid), ZERO)
    due = invoice_due_date(order)
    state, days = _state(order.total, paid, open_amount, due, on)
    return DocumentStatus(
        kind=DocumentKind.INVOICE,
        number=order.number or "",
        document_date=invoice_date(order),
        amount=order.total,
        paid=min(paid, order.total),
        open_amount=open_amount,
        due_date=due,
        days_overdue=days,
        state=state,
        on=on,
        order_id=order.id,
        vat_by_rate=invoice_lines(order).vat_by_rate,
    )


def document_status(document, on: date | None = None) -> DocumentStatus | None:
    """The payment status of an Order (its invoice, or its shipment once shipped) or of a
    ledger charge (LedgerEntry with a debit), as of the end of `on` (default: today).

    None for a cancelled order that never shipped, a payment, or a document dated after `on`."""
    on = on or clock.local_today()
    if lookups.orders().is_order(document):
        from portal.billing.shipments import shipment_of

        shipment = shipment_of(document.id)
        if shipment is not None and shipment.ledger_entry_id is not None:
            entry = db.session.get(LedgerEntry, shipment.ledger_entry_id)
            if entry.entry_date > on:
                return _invoice_status(document, on)
            open_now = allocation.open_amount(entry, on=on)
            return _entry_status(entry, open_now, on, document, _vat_of_entries([entry])[entry.id])
        if document.status == "cancelled":
            return None
        return _invoice_status(document, on)
    if document.kind == EntryKind.PAYMENT or document.debit <= 0 or document.entry_date > on:
        return None
    order = _orders([document]).get(document.source_id) if document.source_type == "order" else None
    return _entry_status(
        document,
        allocation.open_amount(document, on=on),
        on,
        order,
        _vat_of_entries([document])[document.id],
    )


def organisation_open_documents(
    organisation_id, on: date | None = None, *, include_invoices: bool = False
) -> list[DocumentStatus]:
    """The organisation's documents with money open at the end of `on` (default: today),
    oldest first: shipments (УПД), gas months and debit corrections from the ledger.

    Their open amounts add up to the ledger's debt plus the payments not yet allocated
    (ledger.balance + allocation.unallocated_total), to the kopeck. With include_invoices,
    the invoices of orders not yet shipped and not fully prepaid come after them (these are
    not in the ledger: nothing is owed for them until they ship)."""
    on = on or clock.local_today()
    rows = allocation.open_charges(organisation_id, on=on)
    entries = [entry for entry, _ in rows]
    orders = _orders(entries)
    vat = _vat_of_entries(entries)
    documents = [
        _entry_status(
            entry,
            open_now,
            on,
            orders.get(entry.source_id) if entry.source_type == "order" else None,
            vat[entry.id],
        )
        for entry, open_now in rows
    ]
    documents.sort(key=lambda d: (d.due_date or d.document_date, d.document_date, d.entry_id))
    if include_invoices:
        documents += [
            status for status in _unshipped_invoices(organisation_id, on) if status.open_amount > 0
        ]
    return documents


def _unshipped_invoices(organisation_id, on) -> list[DocumentStatus]:
    shipped = select(Shipment.order_id).where(Shipment.organisation_id == organisation_id)
    orders = lookups.orders().open_without(organisation_id, shipped)
    return [_invoice_status(order, on) for order in orders if invoice_date(order) <= on]


def order_statuses(orders, on: date | None = None) -> dict[int, DocumentStatus]:
    """{order id: payment status} for a page of orders (cancelled unshipped ones left out)."""
    statuses = {}
    for order in orders:
        status = document_status(order, on)
        if status is not None:
            statuses[order.id] = status
    return statuses


@dataclass
class Summary:
    """The dashboard's card: what is to pay and what of it is overdue."""

    to_pay: Decimal
    overdue: Decimal
    overdue_count: int
    oldest_due: date | None
    documents: int


def summary(organisation_id, on: date | None = None) -> Summary:
    documents = organisation_open_documents(organisation_id, on)
    overdue = [d for d in documents if d.is_overdue]
    return Summary(
        to_pay=to_money(sum((d.open_amount for d in documents), ZERO)),
        overdue=to_money(sum((d.open_amount for d in overdue), ZERO)),
        overdue_count=len(overdue),
        oldest_due=min((d.due_date for d in overdue), default=None),
        documents=len(documents),
    )
