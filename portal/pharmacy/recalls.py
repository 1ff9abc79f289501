"""Recalls and suspensions of a series: the staff decision with the regulator's letter, the
notices to every organisation that received the series, their acknowledgement.

A recorded recall takes the series' packs out of the stock that can be ordered (its batches
go to zero), and portal.pharmacy.series refuses to ship it.
"""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import User
from portal.catalog.models import Item
from portal.database import utcnow
from portal.documents import storage
from portal.errors import UserError
from portal.extensions import db
from portal.inventory.models import Batch, Stock
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.orders.models import Order, OrderLine, OrderStatus
from portal.organisations.models import Membership, Power
from portal.pharmacy.models import LineSeries, RecallKind, RecallNotice, SeriesRecall, normal_series

RECEIVED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def _receivers(item_id: int, series: str) -> dict[int, int]:
    """{organisation id: packs of the series it received} over shipped and delivered orders."""
    rows = db.session.execute(
        select(Order.organisation_id, func.sum(LineSeries.quantity))
        .join(OrderLine, OrderLine.id == LineSeries.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            LineSeries.item_id == item_id,
            LineSeries.series == series,
            Order.status.in_(list(RECEIVED_STATUSES)),
        )
        .group_by(Order.organisation_id)
    )
    return {organisation_id: int(packs) for organisation_id, packs in rows}


def _known(item_id: int, series: str) -> bool:
    in_stock = db.session.scalar(
        select(Batch.id).where(Batch.item_id == item_id, Batch.series == series).limit(1)
    )
    shipped = db.session.scalar(
        select(LineSeries.id)
        .where(LineSeries.item_id == item_id, LineSeries.series == series)
        .limit(1)
    )
    return in_stock is not None or shipped is not None


def record_recall(*, sku, series, kind, letter_number, reason, letter_file, staff_user):
    """Recall or suspend a series; returns the recall. Refused with nothing saved for an
    unknown item or series, a series already recalled, or a letter that is not a PDF/scan."""
    sku = (sku or "").strip()
    item = db.session.scalar(select(Item).where(Item.sku == sku)) if sku else None
    if item is None:
        raise UserError(_l("No item with code %(sku)s.", sku=sku or "—"), "sku")
    series = normal_series(series)
    if not series:
        raise UserError(_l("Enter the series."), "series")
    if not _known(item.id, series):
        raise UserError(
            _l(
                "Series %(series)s of «%(name)s» is unknown: it is neither in stock nor shipped.",
                series=series,
                name=item.full_name,
            ),
            "series",
        )
    try:
        kind = RecallKind(kind)
    except ValueError as error:
        raise UserError(_l("Choose recalled or suspended."), "kind") from error
    existing = db.session.scalar(
        select(SeriesRecall).where(SeriesRecall.item_id == item.id, SeriesRecall.series == series)
    )
    if existing is not None:
        raise UserError(
            _l(
                "Series %(series)s is already %(state)s (letter %(letter)s).",
                series=series,
                state=str(existing.kind_label).lower(),
                letter=existing.letter_number,
            ),
            "series",
        )
    letter_number = " ".join((letter_number or "").split())
    if not letter_number:
        raise UserError(_l("Enter the number and date of the regulator's letter."), "letter_number")
    try:
        stored = storage.store_upload(letter_file)
    except storage.FileRefused as error:
        raise UserError(error.message, "letter") from error
    _added_files().append(stored.stored_name)
    recall = SeriesRecall(
        item_id=item.id,
        series=series,
        kind=kind,
        letter_number=letter_number[:120],
        reason=(reason or "").strip() or None,
        created_by_id=getattr(staff_user, "id", None),
    )
    recall.set_file(stored)
    recall.withdrawn_packs = _withdraw_stock(item.id, series)
    db.session.add(recall)
    db.session.flush()
    receivers = _receivers(item.id, series)
    for organisation_id, packs in sorted(receivers.items()):
        db.session.add(
            RecallNotice(recall_id=recall.id, organisation_id=organisation_id, packs=packs)
        )
    db.session.flush()
    _notify_receivers(recall, receivers)
    audit.record(
        "pharmacy.series_recalled",
        target=recall,
        item_id=item.id,
        sku=item.sku,
        series=series,
        kind=kind.value,
        letter=recall.letter_number,
        sha256=stored.sha256,
        organisations=sorted(receivers),
        withdrawn_packs=recall.withdrawn_packs,
    )
    return recall


def _withdraw_stock(item_id: int, series: str) -> int:
    """Take the series' packs out of what can be ordered: its batches to zero, and as many
    packs off each warehouse's stock (never below zero). Returns the packs withdrawn."""
    withdrawn = 0
    batches = db.session.scalars(
        select(Batch).where(Batch.item_id == item_id, Batch.series == series, Batch.quantity > 0)
    ).all()
    for batch in batches:
        stock = db.session.execute(
            select(Stock.id, Stock.quantity)
            .where(Stock.item_id == item_id, Stock.warehouse_id == batch.warehouse_id)
            .with_for_update()
        ).first()
        if stock is not None:
            taken = min(stock.quantity, batch.quantity)
            db.session.execute(
                update(Stock)
                .where(Stock.id == stock.id)
                .values(quantity=Stock.quantity - taken)
                .execution_options(synchronize_session=False)
            )
            withdrawn += taken
        batch.quantity = 0
    return withdrawn


def _notify_receivers(recall: SeriesRecall, receivers: dict[int, int]) -> None:
    if not receivers:
        return
    members = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id.in_(list(receivers)),
            Membership.is_blocked.is_(False),
        )
        .order_by(User.id)
    ).all()
    link = url_for("pharmacy.show_recall", recall_id=recall.id)
    title = _l(
        "%(state)s: «%(name)s», series %(series)s",
        state=recall.kind_label,
        name=recall.item.full_name,
        series=recall.series,
    )
    for user, membership in members:
        if not user.is_active or not membership.has(Power.ORDER):
            continue
        notify(user, title, link=link, organisation=membership.organisation_id)
        send_mail(
            user.email,
            title,
            "pharmacy/mail/recall",
            user.language,
            recall=recall,
            user=user,
            packs=receivers[membership.organisation_id],
        )


def open_notices(organisation_id: int) -> list[RecallNotice]:
    return db.session.scalars(
        select(RecallNotice)
        .where(
            RecallNotice.organisation_id == organisation_id,
            RecallNotice.acknowledged_at.is_(None),
        )
        .order_by(RecallNotice.id.desc())
    ).all()


def notice_of(organisation_id: int, recall_id: int) -> RecallNotice | None:
    return db.session.scalar(
        select(RecallNotice).where(
            RecallNotice.organisation_id == organisation_id, RecallNotice.recall_id == recall_id
        )
    )


def acknowledge(notice: RecallNotice, user) -> None:
    if notice.acknowledged_at is not None:
        return
    notice.acknowledged_at = utcnow()
    notice.acknowledged_by_id = user.id
    audit.record(
        "pharmacy.recall_acknowledged",
        target=notice,
        organisation=notice.organisation_id,
        recall_id=notice.recall_id,
        series=notice.recall.series,
    )
    db.session.flush()


def recalls_of_item(item_id: int) -> dict[str, SeriesRecall]:
    return {
        recall.series: recall
        for recall in db.session.scalars(
            select(SeriesRecall).where(SeriesRecall.item_id == item_id)
        )
    }


def all_recalls():
    return select(SeriesRecall).order_by(SeriesRecall.created_at.desc(), SeriesRecall.id.desc())


def send_letter(recall: SeriesRecall):
    return storage.send_stored(recall.stored_name, recall.original_name, recall.content_type)


# The letter follows the transaction: a refused or failed request discards it.
_ADDED = "pharmacy_recall_letters_added"


def _added_files() -> list:
    return db.session().info.setdefault(_ADDED, [])


@event.listens_for(Session, "after_commit")
def _keep_letters(session):
    session.info.pop(_ADDED, None)


@event.listens_for(Session, "after_rollback")
def _discard_letters(session):
    for name in session.info.pop(_ADDED, []):
        storage.discard(name)
