"""Which warehouse serves an organisation: the one rule the catalogue, the cart, checkout and
the API use.

The warehouse of the delivery address's region (the address chosen, else the organisation's
default one, else its first; an address without a region: the organisation's region); the
central warehouse serves every region without one of its own.
"""

import functools
from dataclasses import dataclass

from flask import g, has_request_context
from sqlalchemy import String, bindparam, case, func, select

from portal import caching
from portal.extensions import db
from portal.inventory.models import Warehouse
from portal.organisations.models import DeliveryAddress


def serving_warehouse(organisation, address: DeliveryAddress | None = None) -> Warehouse | None:
    """The warehouse serving `address` (None: the organisation's default, else first, delivery
    address): one query, remembered for the rest of the request (a page asks several times)."""
    if address is None:
        key, params = organisation.id, {"organisation_id": organisation.id}
        params["region"] = organisation.region
    else:
        region = address.region or organisation.region
        key, params = ("region", region), {"organisation_id": None, "region": region}
    remembered = g.setdefault("serving_warehouse", {}) if has_request_context() else {}
    if key not in remembered:
        remembered[key] = db.session.scalar(_serving_warehouse_statement(), params)
    return remembered[key]


@dataclass(frozen=True)
class WarehouseRef:
    """The serving warehouse as a catalogue page needs it: whose stock, under what name."""

    id: int
    name: str


def serving_warehouse_ref(organisation) -> WarehouseRef | None:
    """`serving_warehouse` of the organisation's default address, kept in the shared cache
    (caching.SERVING_WAREHOUSE: every catalogue page asks). The cart and checkout ask afresh."""

    def look_up():
        warehouse = serving_warehouse(organisation)
        return WarehouseRef(warehouse.id, warehouse.name) if warehouse else None

    return caching.remember(caching.SERVING_WAREHOUSE, organisation.id, look_up)


@functools.cache  # the statement (not its answer): built once per process
def _serving_warehouse_statement():
    address_region = (
        select(func.nullif(DeliveryAddress.region, ""))
        .where(DeliveryAddress.organisation_id == bindparam("organisation_id"))
        .order_by(DeliveryAddress.is_default.desc(), DeliveryAddress.id)
        .limit(1)
        .scalar_subquery()
    )
    wanted = func.lower(func.coalesce(address_region, bindparam("region", type_=String)))
    return (
        select(Warehouse)
        .order_by(
            case((func.lower(Warehouse.region) == wanted, 0), else_=1),
            Warehouse.is_central.desc(),
            Warehouse.id,
        )
        .limit(1)
    )
