"""Payment reminders: one digest per organisation and day, by e-mail and under the bell.

An organisation gets a digest on a day when one of its open documents is REMINDER_DAYS_BEFORE
days from its due date or REMINDER_DAYS_AFTER (e.g. 1, 7, 14, 30) days past it. The digest
lists every document that is overdue or due within REMINDER_DAYS_BEFORE days, never one mail
per document. It goes to the members with the finance power who have not turned payment
reminders off in their profile. What was sent is stored (payment_reminders, one row per
organisation and day), so a second run on the same day sends nothing.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.billing.models import EntryKind, LedgerEntry, PaymentReminder
from portal.billing.receivables import OpenDocument, open_documents
from portal.extensions import db
from portal.mail import send_mail
from portal.money import format_rub
from portal.notifications.services import notify
from portal.organisations.models import Membership, Organisation, Power

ZERO = Decimal("0.00")


def reminder_days() -> tuple[int, frozenset[int]]:
    """(days before a due date, days after it) from the configuration."""
    before = int(current_app.config.get("REMINDER_DAYS_BEFORE", 3))
    after = current_app.config.get("REMINDER_DAYS_AFTER", "1,7,14,30")
    if isinstance(after, str):
        after = [part for part in after.replace(" ", "").split(",") if part]
    return before, frozenset(int(day) for day in after)


@dataclass
class Digest:
    organisation: Organisation
    documents: list[OpenDocument]
    recipients: list = field(default_factory=list)  # users

    @property
    def overdue(self) -> list[OpenDocument]:
        return [d for d in self.documents if d.is_overdue]

    @property
    def overdue_total(self) -> Decimal:
        return sum((d.open_amount for d in self.overdue), ZERO)

    @property
    def open_total(self) -> Decimal:
        return sum((d.open_amount for d in self.documents), ZERO)

    @property
    def subject(self):
        if self.overdue:
            return _l(
                "Overdue payment: %(amount)s, %(organisation)s",
                amount=format_rub(self.overdue_total),
                organisation=self.organisation.legal_name,
            )
        return _l(
            "Payment due on %(date)s: %(amount)s, %(organisation)s",
            date=self.documents[0].due_date.strftime("%d.%m.%Y"),
            amount=format_rub(self.open_total),
            organisation=self.organisation.legal_name,
        )


def _triggers(document: OpenDocument, today: date, before: int, after: frozenset[int]) -> bool:
    days_to_due = (document.due_date - today).days
    return days_to_due == before or -days_to_due in after


def _listed(document: OpenDocument, today: date, before: int) -> bool:
    return document.is_overdue or 0 <= (document.due_date - today).days <= before


def recipients_of(organisation_id: int) -> list:
    """Active members with the finance power who want payment reminders."""
    from portal.accounts.models import User

    memberships = db.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.is_blocked.is_(False),
            User.notify_payment_reminders.is_(True),
        )
        .order_by(User.id)
    ).all()
    return [m.user for m in memberships if m.has(Power.VIEW_FINANCE) and m.user.is_active]


def _already_sent(organisation_id: int, day: date) -> bool:
    return (
        db.session.scalar(
            select(PaymentReminder.id).where(
                PaymentReminder.organisation_id == organisation_id, PaymentReminder.sent_on == day
            )
        )
        is not None
    )


def due_digests(today: date | None = None) -> list[Digest]:
    """The digests a run on `today` sends (nothing for an organisation already reminded)."""
    today = today or clock.local_today()
    before, after = reminder_days()
    with_charges = (
        select(LedgerEntry.organisation_id)
        .distinct()
        .where(LedgerEntry.kind != EntryKind.PAYMENT, LedgerEntry.debit > 0)
    )
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.is_active.is_(True), Organisation.id.in_(with_charges))
        .order_by(Organisation.id)
    ).all()
    digests = []
    for organisation in organisations:
        documents = open_documents(organisation.id, today=today)
        if not any(_triggers(d, today, before, after) for d in documents):
            continue
        if _already_sent(organisation.id, today):
            continue
        listed = [d for d in documents if _listed(d, today, before)]
        recipients = recipients_of(organisation.id)
        if listed and recipients:
            digests.append(Digest(organisation, listed, recipients))
    return digests


def send_payment_reminders(today: date | None = None, *, dry_run=False) -> list[Digest]:
    """Send today's digests (e-mail after commit, and a notice under the bell); with
    dry_run, only say what would be sent."""
    today = today or clock.local_today()
    digests = due_digests(today)
    if dry_run:
        return digests
    sent = []
    for digest in digests:
        record = PaymentReminder(
            organisation_id=digest.organisation.id,
            sent_on=today,
            documents=[
                {
                    "entry_id": d.entry.id,
                    "number": d.number,
                    "open": str(d.open_amount),
                    "due": d.due_date.isoformat(),
                    "days_overdue": d.days_overdue,
                }
                for d in digest.documents
            ],
            recipients=[user.id for user in digest.recipients],
        )
        try:
            # A parallel run that reminded the organisation first wins; this one skips it.
            with db.session.begin_nested():
                db.session.add(record)
                db.session.flush()
        except IntegrityError:
            continue
        qrs = document_qrs(digest, today)
        for user in digest.recipients:
            _deliver(digest, user, today, qrs)
        sent.append(digest)
    db.session.flush()
    return sent


def document_qrs(digest: Digest, today: date) -> dict[int, object]:
    """{ledger entry id: PaymentQr} for the digest's documents, each for its open balance.

    An order's document names its invoice in the purpose, so the bank import allocates the
    payment to it; another charge (a gas month, an adjustment) gets the purpose of paying the
    debt, which the import allocates to the oldest open documents. Empty when the supplier's
    bank requisites are incomplete (the mail then only links to the pages)."""
    from flask import current_app

    from portal.billing import lookups, payment_qr, payment_status

    supplier = current_app.config["SUPPLIER"]
    if payment_qr.supplier_qr_problem(supplier):
        return {}
    qrs = {}
    for document in digest.documents:
        order = lookups.orders().get(document.order_id) if document.order_id else None
        if order is not None:
            purpose = payment_qr.invoice_purpose(order, document.open_amount)
        else:
            status = payment_status.document_status(document.entry, today)
            purpose = payment_qr.debt_purpose([status], document.open_amount, today)
        qr = payment_qr.build_qr(supplier, document.open_amount, purpose)
        if qr.available:
            qrs[document.entry.id] = qr
    return qrs


def _deliver(digest: Digest, user, today: date, qrs: dict) -> None:
    from flask import url_for

    from portal.billing.payment_qr import payment_qr_png

    notify(
        user,
        digest.subject,
        body=_l(
            "Documents to pay: %(count)s, open %(amount)s.",
            count=len(digest.documents),
            amount=format_rub(digest.open_total),
        ),
        link=url_for("billing.account"),
        organisation=digest.organisation,
    )
    send_mail(
        user.email,
        digest.subject,
        "billing/mail/payment_reminder",
        user.language,
        images={f"qr-{entry_id}": payment_qr_png(qr.text) for entry_id, qr in qrs.items()},
        user=user,
        digest=digest,
        today=today,
        qrs=qrs,
    )
