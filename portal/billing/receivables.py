"""Receivables: when each open document is due, the aging report and the credit hold.

Due dates follow the payment terms (portal.billing.terms, the same rule as the payment status
and the invoice). A document is overdue from the day after its due date.

The aging report puts every open amount in one bucket by days overdue. Money the customer paid
that no document has taken yet (an unallocated payment, a credit adjustment) is shown as its
own column with a minus sign, so that for every organisation

    current + 1–30 + 31–60 + 61–90 + over 90 − unallocated credit = the ledger's balance

to the kopeck.
"""

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import abort, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.billing import allocation, payment_status
from portal.billing.corrections import SHIPMENT_CORRECTION
from portal.billing.models import CreditHold, EntryKind, LedgerEntry, Shipment
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import money
from portal.money import MoneyError, to_money
from portal.organisations.models import Organisation

ZERO = Decimal("0.00")


class Bucket(enum.StrEnum):
    CURRENT = "current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "over-90"

    @property
    def label(self):
        return {
            Bucket.CURRENT: _l("Not yet due"),
            Bucket.DAYS_1_30: _l("1–30 days"),
            Bucket.DAYS_31_60: _l("31–60 days"),
            Bucket.DAYS_61_90: _l("61–90 days"),
            Bucket.OVER_90: _l("Over 90 days"),
        }[self]

    @classmethod
    def of(cls, days_overdue: int) -> "Bucket":
        if days_overdue <= 0:
            return cls.CURRENT
        if days_overdue <= 30:
            return cls.DAYS_1_30
        if days_overdue <= 60:
            return cls.DAYS_31_60
        if days_overdue <= 90:
            return cls.DAYS_61_90
        return cls.OVER_90


@dataclass
class OpenDocument:
    """A charge with money still owed on it, with its due date as of `today`."""

    entry: LedgerEntry
    open_amount: Decimal
    due_date: date
    days_overdue: int
    order_id: int | None = None

    @property
    def number(self) -> str:
        return self.entry.document_number or self.entry.text

    @property
    def bucket(self) -> Bucket:
        return Bucket.of(self.days_overdue)

    @property
    def is_overdue(self) -> bool:
        return self.days_overdue > 0

    def customer_link(self) -> str:
        """The customer's page of the document: the order page (invoice, payment QR) or the
        settlement account for a gas month."""
        if self.order_id is not None:
            return url_for("orders.show_order", order_id=self.order_id)
        return url_for("billing.account")

    def staff_link(self) -> str:
        if self.order_id is not None:
            return url_for("orders.staff_order", order_id=self.order_id)
        if self.entry.contract_id is not None:
            return url_for(
                "metering_staff.organisation", organisation_id=self.entry.organisation_id
            )
        return url_for("backoffice.show_organisation", organisation_id=self.entry.organisation_id)


def _orders_of(entries) -> dict[int, tuple[int, object]]:
    """{charge entry id: (order id, order)} for shipments and their corrections."""
    shipment_entry_ids = {e.id for e in entries if e.source_type == "order"}
    shipment_entry_ids |= {
        e.source_id for e in entries if e.source_type == SHIPMENT_CORRECTION and e.source_id
    }
    if not shipment_entry_ids:
        return {}
    shipments = db.session.scalars(
        select(Shipment)
        .options(selectinload(Shipment.order))
        .where(Shipment.ledger_entry_id.in_(shipment_entry_ids))
    ).all()
    by_entry = {s.ledger_entry_id: (s.order_id, s.order) for s in shipments}
    # A shipment charged before shipments were documents: the entry names its order.
    orphans = [e for e in entries if e.source_type == "order" and e.id not in by_entry]
    if orphans:
        terms = _terms_of_orders([e.source_id for e in orphans])
        for entry in orphans:
            if entry.source_id in terms:
                by_entry[entry.id] = (entry.source_id, terms[entry.source_id])
    for entry in entries:
        if entry.source_type == SHIPMENT_CORRECTION and entry.source_id in by_entry:
            by_entry[entry.id] = by_entry[entry.source_id]
    return by_entry


def _terms_of_orders(order_ids) -> dict[int, object]:
    order_model = Shipment.order.property.mapper.class_
    orders = db.session.scalars(select(order_model).where(order_model.id.in_(order_ids)))
    return {order.id: order for order in orders}


def due_date_of(entry: LedgerEntry, order=None) -> date:
    """The last day to pay a charge without being overdue (portal.billing.terms)."""
    return payment_status.due_date_of(entry, order)


def open_documents(organisation_id: int, *, today: date | None = None) -> list[OpenDocument]:
    """The organisation's charges with an open balance, oldest due first."""
    today = today or clock.local_today()
    charges = allocation.open_charges(organisation_id)
    orders = _orders_of([entry for entry, _ in charges])
    documents = []
    for entry, open_amount in charges:
        order_id, order = orders.get(entry.id, (None, None))
        due = due_date_of(entry, order)
        documents.append(
            OpenDocument(
                entry=entry,
                open_amount=open_amount,
                due_date=due,
                days_overdue=max((today - due).days, 0),
                order_id=order_id,
            )
        )
    documents.sort(key=lambda d: (d.due_date, d.entry.entry_date, d.entry.id))
    return documents


def unallocated_credit(organisation_id: int) -> Decimal:
    """Money in the customer's favour no document has taken: unallocated payments and credit
    adjustments (which reduce the debt without paying a particular document)."""
    credit_adjustments = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.credit), 0)).where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.kind == EntryKind.ADJUSTMENT,
        )
    )
    return to_money(allocation.unallocated_total(organisation_id) + to_money(credit_adjustments))


def overdue_debt(organisation_id: int, *, today: date | None = None) -> Decimal:
    """What is past due: the open balances of the overdue documents."""
    documents = open_documents(organisation_id, today=today)
    return to_money(sum((d.open_amount for d in documents if d.is_overdue), ZERO))


# --- the aging report ------------------------------------------------------------------------


@dataclass
class AgingRow:
    organisation: Organisation | None  # None: the totals row
    buckets: dict[Bucket, Decimal] = field(default_factory=lambda: {b: ZERO for b in Bucket})
    unallocated: Decimal = ZERO  # positive: money in the customer's favour
    hold: CreditHold | None = None

    @property
    def open_total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.open_total - self.buckets[Bucket.CURRENT]

    @property
    def balance(self) -> Decimal:
        """Equals the ledger's balance of the organisation (debt positive)."""
        return self.open_total - self.unallocated

    def add(self, other: "AgingRow") -> None:
        for bucket in Bucket:
            self.buckets[bucket] += other.buckets[bucket]
        self.unallocated += other.unallocated


@dataclass
class AgingReport:
    day: date
    rows: list[AgingRow]
    totals: AgingRow


def visible_organisations(user):
    """The organisations whose receivables a staff member sees: an admin all, a manager those
    assigned to them."""
    query = select(Organisation)
    if not user.is_admin:
        query = query.where(Organisation.manager_id == user.id)
    return query


def visible_organisation_or_404(user, organisation_id) -> Organisation:
    organisation = db.session.scalar(
        visible_organisations(user).where(Organisation.id == organisation_id)
    )
    if organisation is None:
        abort(404)
    return organisation


def aging_row(organisation: Organisation, *, today: date | None = None) -> AgingRow:
    row = AgingRow(organisation, unallocated=unallocated_credit(organisation.id))
    for document in open_documents(organisation.id, today=today):
        row.buckets[document.bucket] += document.open_amount
    row.hold = hold_of(organisation.id)
    return row


def aging_report(user, *, today: date | None = None) -> AgingReport:
    """Every visible organisation with ledger entries, largest overdue debt first."""
    today = today or clock.local_today()
    with_entries = select(LedgerEntry.organisation_id).distinct()
    organisations = db.session.scalars(
        visible_organisations(user)
        .where(Organisation.id.in_(with_entries))
        .order_by(Organisation.legal_name)
    ).all()
    rows = [aging_row(organisation, today=today) for organisation in organisations]
    rows = [row for row in rows if row.open_total or row.unallocated]
    rows.sort(key=lambda row: (-row.overdue, -row.open_total, row.organisation.legal_name))
    totals = AgingRow(None)
    for row in rows:
        totals.add(row)
    return AgingReport(today, rows, totals)


def parse_bucket(value) -> Bucket | None:
    try:
        return Bucket(value)
    except ValueError:
        return None


# --- credit hold -------------------------------------------------------------------------------


def hold_of(organisation_id: int) -> CreditHold | None:
    return db.session.scalar(
        select(CreditHold).where(CreditHold.organisation_id == organisation_id)
    )


def set_hold(organisation: Organisation, threshold, reason: str, user) -> CreditHold:
    """Put an organisation on credit hold (or change its threshold); audited with the reason."""
    try:
        amount = to_money(threshold)
    except MoneyError as error:
        message = _l("Enter the amount as a number, e.g. 10000.00.")
        raise UserError(message, "threshold") from error
    if amount < 0:
        raise UserError(_l("The threshold cannot be negative."), "threshold")
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_l("Give the reason for the credit hold."), "reason")
    hold = hold_of(organisation.id)
    before = None if hold is None else str(hold.threshold)
    if hold is None:
        hold = CreditHold(organisation_id=organisation.id)
        db.session.add(hold)
    hold.threshold, hold.reason = amount, reason[:500]
    hold.set_by_id = getattr(user, "id", None)
    hold.set_at = utcnow()
    db.session.flush()
    audit.record(
        "billing.credit_hold_set",
        target=organisation,
        organisation=organisation,
        threshold=str(amount),
        previous_threshold=before,
        reason=reason,
    )
    return hold


def clear_hold(organisation: Organisation, reason: str, user) -> None:
    """Lift the credit hold; audited with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_l("Give the reason for lifting the credit hold."), "reason")
    hold = hold_of(organisation.id)
    if hold is None:
        raise UserError(_l("The organisation is not on credit hold."))
    audit.record(
        "billing.credit_hold_cleared",
        target=organisation,
        organisation=organisation,
        threshold=str(hold.threshold),
        reason=reason,
    )
    db.session.delete(hold)
    db.session.flush()


def deferred_order_refusal(organisation_id: int, *, today: date | None = None):
    """Why a new deferred-payment order is refused (a message), or None when it is not."""
    hold = hold_of(organisation_id)
    if hold is None:
        return None
    overdue = overdue_debt(organisation_id, today=today)
    if overdue <= hold.threshold:
        return None
    return _l(
        "Deferred payment is suspended: your overdue debt is %(overdue)s. Pay the overdue "
        "invoices (see «Settlement account») or choose prepayment.",
        overdue=money(overdue),
    )
