from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.documents.subjects import register_subject
from portal.navigation import MenuItem, Panel, register_menu, register_panel
from portal.organisations.models import PHARMACY_KINDS, Power

bp = Blueprint("orders", __name__)


def _cart_lines(membership) -> int:
    from portal.orders.cart import cart_count

    return cart_count(membership.user_id, membership.organisation_id)


register_menu(
    MenuItem(
        _l("Cart"),
        "orders.show_cart",
        power=Power.ORDER,
        order=40,
        group="purchasing",
        icon="cart3",
        badge=_cart_lines,
    )
)
register_menu(
    MenuItem(
        _l("Orders"),
        "orders.list_orders",
        power=Power.ORDER,
        order=45,
        group="purchasing",
    )
)
register_menu(MenuItem(_l("Orders"), "orders.staff_orders", staff=True, order=25, group="sales"))


def _open_orders_panel(membership):
    from portal.orders.workflow import open_orders_summary

    return open_orders_summary(membership.organisation_id)


def _balance_panel(membership):
    from portal.orders.checkout import credit_position

    return credit_position(membership.organisation)


def _staff_orders_panel(_membership):
    from portal.orders.workflow import orders_to_confirm_count

    return {"count": orders_to_confirm_count()}


register_panel(
    Panel(
        template="orders/panel_open_orders.html",
        context=_open_orders_panel,
        power=Power.ORDER,
        kinds=PHARMACY_KINDS,
        order=10,
    )
)
register_panel(
    Panel(
        template="orders/panel_balance.html",
        context=_balance_panel,
        power=Power.VIEW_FINANCE,
        kinds=PHARMACY_KINDS,
        order=11,
    )
)
register_panel(
    Panel(
        template="orders/panel_staff_orders.html",
        context=_staff_orders_panel,
        staff=True,
        order=10,
    )
)


def _order_label(organisation_id, order_id):
    """Tickets (claims, returns) and uploads may refer to one of the organisation's orders."""
    from portal.orders.workflow import order_for_organisation

    order = order_for_organisation(organisation_id, order_id)
    return None if order is None else _l("Order %(number)s", number=order.number)


def _order_by_number(organisation_id, number):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.orders.models import Order

    return db.session.scalar(
        select(Order.id).where(Order.organisation_id == organisation_id, Order.number == number)
    )


register_subject("order", _order_label, _l("Order"), find_by_number=_order_by_number)

# Billing knows orders by id; this registers how it reads one (portal.billing.lookups).
from portal.orders import billing_lookups  # noqa: E402, F401
