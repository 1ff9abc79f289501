"""An order's life after checkout: the buyer cancels, staff move it along its workflow
(shipping posts the charge and issues the УПД), shipped quantities, notes; dashboard figures."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit, billing
from portal.api import webhooks
from portal.errors import UserError
from portal.extensions import db
from portal.inventory import stock as inventory
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.orders.checkout import order_event_data
from portal.orders.models import NEXT_STATUSES, OPEN_STATUSES, Order, OrderEvent, OrderStatus
from portal.pharmacy import series

# --- the order's life ---------------------------------------------------------------------


def order_for_organisation(organisation_id, order_id) -> Order | None:
    """The organisation's order with this id, or None (used by other domains, e.g. tickets)."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id, Order.organisation_id == organisation_id)
    )


def _locked(order: Order) -> Order:
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order)
    return order


def _release_unshipped(order: Order, *, all_lines: bool) -> None:
    for line in order.lines:
        shipped = 0 if all_lines or line.shipped_quantity is None else line.shipped_quantity
        if not all_lines and line.shipped_quantity is None:
            continue
        back = line.quantity - shipped
        if back > 0:
            inventory.release_stock(order.warehouse_id, line.item_id, back)


def _notify_status(order: Order) -> None:
    user = order.user
    if user is None or not user.is_active:
        return
    label = OrderStatus(order.status).label
    link = url_for("orders.show_order", order_id=order.id)
    notify(
        user,
        str(_l("Order %(number)s: %(status)s", number=order.number, status=label)),
        link=link,
        organisation=order.organisation_id,
    )
    if user.notify_order_status:
        send_mail(
            user.email,
            _l("Order %(number)s: %(status)s", number=order.number, status=label),
            "orders/mail/status_changed",
            user.language,
            order=order,
            user=user,
            status_label=label,
        )


def cancel_order(order: Order, user) -> Order:
    """The buyer cancels an order not yet confirmed; its packs go back on the shelf."""
    _locked(order)
    if order.status != OrderStatus.NEW:
        raise UserError(_l("Only a new order can be cancelled; contact your manager."))
    _release_unshipped(order, all_lines=True)
    order.status = OrderStatus.CANCELLED
    order.events.append(OrderEvent(status=OrderStatus.CANCELLED, user_id=user.id))
    db.session.flush()
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    _notify_status(order)
    return order


def change_status(order: Order, new_status, staff_user, note=None, shipped_on=None) -> Order:
    """Staff move an order along its workflow; shipping posts the charge to the ledger and
    issues the shipment's УПД (dated `shipped_on`, today by default)."""
    _locked(order)
    try:
        new_status = OrderStatus(new_status)
    except ValueError as error:
        raise UserError(_l("Unknown status."), "status") from error
    current = OrderStatus(order.status)
    if new_status not in NEXT_STATUSES[current]:
        raise UserError(
            _l(
                "An order in status «%(current)s» cannot become «%(new)s».",
                current=current.label,
                new=new_status.label,
            ),
            "status",
        )
    if new_status == OrderStatus.CANCELLED:
        _release_unshipped(order, all_lines=True)
    if new_status == OrderStatus.SHIPPED:
        for line in order.lines:
            if line.shipped_quantity is None:
                line.shipped_quantity = line.quantity
        _release_unshipped(order, all_lines=False)
        try:
            series.check_before_shipping(order)  # no recalled series, none over the quantity
            billing.post_shipment(order, staff_user, shipped_on)
        except UserError as error:  # the УПД is refused: nothing ships, the reason is shown
            raise UserError(error.message, "status") from error
    order.status = new_status
    order.events.append(
        OrderEvent(status=new_status, user_id=staff_user.id, note=(note or "").strip() or None)
    )
    audit.record(
        "orders.status_changed",
        target=order,
        organisation=order.organisation_id,
        number=order.number,
        old=current.value,
        new=new_status.value,
        note=note or "",
    )
    db.session.flush()
    webhooks.emit("order.status_changed", order.organisation_id, order_event_data(order))
    _notify_status(order)
    return order


def set_shipped_quantities(order: Order, quantities: dict[int, int], staff_user) -> Order:
    """Record what is actually going out, line by line, before the order ships."""
    _locked(order)
    if order.status not in OPEN_STATUSES:
        raise UserError(_l("Shipped quantities can be changed only before shipping."))
    changes = {}
    for line in order.lines:
        if line.id not in quantities:
            continue
        value = quantities[line.id]
        if value is None or value < 0 or value > line.quantity:
            raise UserError(
                _l(
                    "«%(name)s»: the shipped quantity must be between 0 and %(count)s.",
                    name=line.name,
                    count=line.quantity,
                )
            )
        if value != line.shipped_quantity:
            changes[line.sku] = [line.shipped_quantity, value]
            line.shipped_quantity = value
    if changes:
        audit.record(
            "orders.shipped_quantities",
            target=order,
            organisation=order.organisation_id,
            number=order.number,
            changes=changes,
        )
    db.session.flush()
    return order


def set_staff_note(order: Order, note: str, staff_user) -> Order:
    order.staff_note = (note or "").strip() or None
    audit.record(
        "orders.note", target=order, organisation=order.organisation_id, note=order.staff_note
    )
    db.session.flush()
    return order


# --- dashboard figures ----------------------------------------------------------------------


def open_orders_summary(organisation_id):
    orders = db.session.scalars(
        select(Order)
        .where(Order.organisation_id == organisation_id, Order.status.in_(list(OPEN_STATUSES)))
        .order_by(Order.created_at.desc())
        .limit(5)
    ).all()
    count = db.session.scalar(
        select(func.count(Order.id)).where(
            Order.organisation_id == organisation_id, Order.status.in_(list(OPEN_STATUSES))
        )
    )
    return {"orders": orders, "count": count}


def orders_to_confirm_count() -> int:
    return db.session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.NEW))
