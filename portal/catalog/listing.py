"""Catalogue tables: the rows of a search page or the favourites (item, stock in the serving
warehouse, favourite star, price) read in one query; items matched by code."""

import functools
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Date, bindparam, or_, select, update

from portal.catalog.models import (
    Favourite,
    Item,
    ItemPrice,
    Manufacturer,
    OrganisationPricing,
    PriceList,
    full_item_name,
)
from portal.catalog.pricing import percent_off, price_of, running_promotions_for, today
from portal.database import utcnow
from portal.extensions import db
from portal.inventory.models import Stock
from portal.inventory.stock import on_stock_moved


@dataclass(frozen=True, slots=True)
class Listed:
    """An item as a catalogue table shows it to one buyer: what it is, the stock in their
    warehouse, whether it is a favourite and (with the view_prices power) their price."""

    id: int
    sku: str
    trade_name: str
    dosage_form: str | None
    strength: str | None
    pack_size: int | None
    generic_name: str | None
    is_rx: bool
    is_vital: bool
    is_cold_chain: bool
    min_quantity: int
    order_multiple: int
    manufacturer: str | None
    stock: int
    is_favourite: bool
    price: Decimal | None = None
    list_price: Decimal | None = None
    promotion_percent: Decimal | None = None

    @property
    def full_name(self) -> str:
        return full_item_name(self.trade_name, self.dosage_form, self.strength, self.pack_size)


def listing(item_ids, *, organisation_id, user_id, warehouse_id, with_prices, on=None):
    """The rows of a catalogue table for these items, in the order given, in one query:
    a search page reads its 24 rows with their stock, favourites and prices at once."""
    if not item_ids:
        return []
    rows = db.session.execute(
        _listing_statement(with_prices),
        {
            "item_ids": list(item_ids),
            "organisation_id": organisation_id,
            "user_id": user_id,
            "warehouse_id": warehouse_id,
            "on": on or today(),
        },
    )
    found = {}
    promotions = running_promotions_for(item_ids, on) if with_prices else {}
    for row in rows:
        prices = price_of(*row[15:18], promotions.get(row[0])) if with_prices else None
        found[row[0]] = Listed(
            *row[:13],
            stock=row[13] or 0,
            is_favourite=bool(row[14]),
            price=prices[0] if prices else None,
            list_price=prices[1] if prices else None,
            promotion_percent=percent_off(prices[0], prices[1]) if prices and prices[2] else None,
        )
    return [found[item_id] for item_id in item_ids if item_id in found]


@functools.cache
def _listing_statement(with_prices):
    """The listing query, built once per process (it runs on every catalogue page; building
    its dozen subqueries cost more than PostgreSQL's answer). Values come as bound parameters."""
    item = Item.__table__.c
    organisation_id = bindparam("organisation_id")
    stock = (
        select(Stock.quantity)
        .where(Stock.item_id == item.id, Stock.warehouse_id == bindparam("warehouse_id"))
        .scalar_subquery()
    )
    favourite = (
        select(Favourite.id)
        .where(
            Favourite.item_id == item.id,
            Favourite.user_id == bindparam("user_id"),
            Favourite.organisation_id == organisation_id,
        )
        .exists()
    )
    columns = [
        item.id,
        item.sku,
        item.trade_name,
        item.dosage_form,
        item.strength,
        item.pack_size,
        item.generic_name,
        item.is_rx,
        item.is_vital,
        item.is_cold_chain,
        item.min_quantity,
        item.order_multiple,
        Manufacturer.name,
        stock,
        favourite,
    ]
    if with_prices:
        columns += _price_columns(item, organisation_id, bindparam("on", type_=Date))
    return (
        select(*columns)
        .select_from(Item.__table__)
        .outerjoin(Manufacturer, Manufacturer.id == item.manufacturer_id)
        .where(item.id.in_(bindparam("item_ids", expanding=True)))
    )


def _price_columns(item, organisation_id, on):
    """The organisation's own list price, the base price and its discount of each row, as
    correlated subqueries (the inputs of `price_of`; promotions are read apart)."""
    own = (
        select(ItemPrice.price)
        .join(OrganisationPricing, OrganisationPricing.price_list_id == ItemPrice.price_list_id)
        .where(OrganisationPricing.organisation_id == organisation_id, ItemPrice.item_id == item.id)
        .scalar_subquery()
    )
    base_list = (
        select(PriceList.id).where(PriceList.is_base.is_(True)).order_by(PriceList.id).limit(1)
    ).scalar_subquery()
    base = (
        select(ItemPrice.price)
        .where(ItemPrice.item_id == item.id, ItemPrice.price_list_id == base_list)
        .scalar_subquery()
    )
    discount = (
        select(OrganisationPricing.discount_percent)
        .where(OrganisationPricing.organisation_id == organisation_id)
        .scalar_subquery()
    )
    return [own, base, discount]


def items_by_code(codes) -> dict[str, Item]:
    """Map each given SKU or EAN-13 barcode (as typed) to an active item."""
    # A code with a NUL byte is no item's code, and PostgreSQL refuses it in a query (a 500):
    # it stays unmatched and its line is reported like any unknown code.
    wanted = {str(c).strip() for c in codes if str(c).strip() and "\x00" not in str(c)}
    if not wanted:
        return {}
    found: dict[str, Item] = {}
    upper = {c.upper(): c for c in wanted}
    listed = list(wanted | set(upper))
    for start in range(0, len(listed), 400):
        chunk = listed[start : start + 400]
        rows = db.session.scalars(
            select(Item).where(
                Item.is_active.is_(True), or_(Item.sku.in_(chunk), Item.barcode.in_(chunk))
            )
        )
        for item in rows:
            for code in (item.sku, item.barcode):
                if code in wanted:
                    found[code] = item
                if code and code.upper() in upper:
                    found[upper[code.upper()]] = item
    return found


@on_stock_moved
def touch_items(item_ids) -> None:
    """Bump the items' updated_at after a bulk UPDATE the ORM does not see (stock moves):
    the API's delta sync (`updated_since`) then returns them."""
    if item_ids:
        db.session.execute(
            update(Item)
            .where(Item.id.in_(list(item_ids)))
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
