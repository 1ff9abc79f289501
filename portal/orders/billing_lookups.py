"""How billing reads an order it knows by id (portal.billing.lookups): registered on import."""

from portal.billing.lookups import OrderLookup, register_orders


def _get(order_id):
    from portal.extensions import db
    from portal.orders.models import Order

    return db.session.get(Order, order_id)


def _get_many(ids):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.orders.models import Order

    ids = set(ids)
    if not ids:
        return {}
    return {order.id: order for order in db.session.scalars(select(Order).where(Order.id.in_(ids)))}


def _open_without(organisation_id, excluded_ids):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.extensions import db
    from portal.orders.models import Order, OrderStatus

    return db.session.scalars(
        select(Order)
        .where(
            Order.organisation_id == organisation_id,
            Order.status != OrderStatus.CANCELLED,
            Order.id.not_in(excluded_ids),
        )
        .options(selectinload(Order.lines))
        .order_by(Order.created_at, Order.id)
    ).all()


def _by_numbers(organisation_id, numbers):
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.orders.models import Order

    return db.session.execute(
        select(Order.id, Order.number, Order.status).where(
            Order.organisation_id == organisation_id,
            func.lower(Order.number).in_(sorted(set(numbers))),
        )
    ).all()


def _is_order(value) -> bool:
    from portal.orders.models import Order

    return isinstance(value, Order)


register_orders(
    OrderLookup(
        get=_get,
        get_many=_get_many,
        open_without=_open_without,
        by_numbers=_by_numbers,
        is_order=_is_order,
    )
)
