"""Catalogue rules: prices for an organisation, search, stock, favourites, recently viewed."""

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, g, has_request_context
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import contains_eager, joinedload

from portal.catalog.delivery import earliest_delivery_date
from portal.catalog.models import (
    Batch,
    Favourite,
    Item,
    ItemPrice,
    Manufacturer,
    OrganisationPricing,
    PriceList,
    Promotion,
    RecentlyViewed,
    Stock,
    Warehouse,
    full_item_name,
)
from portal.collation import ordered
from portal.database import utcnow
from portal.extensions import db, local_cache
from portal.money import to_money
from portal.organisations.models import DeliveryAddress

RECENTLY_VIEWED_KEPT = 20


class CatalogError(ValueError):
    """A catalogue rule was broken; the message is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def today() -> date:
    return date.today()


# --- prices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """How an organisation is priced: its price list (None = base) and its discount."""

    base_list_id: int | None
    price_list_id: int | None
    discount_percent: Decimal


@dataclass(frozen=True)
class Quote:
    price: Decimal  # what the organisation pays per pack, VAT included
    list_price: Decimal  # before the promotion
    promotion: Promotion | None = None

    @property
    def percent_off(self) -> int | None:
        return percent_off(self.price, self.list_price) if self.promotion else None


def terms_for(organisation_id) -> Terms:
    """The organisation's price terms, read in one query and remembered for the request."""
    remembered = g.setdefault("price_terms", {}) if has_request_context() else {}
    if organisation_id not in remembered:

        def own(column):
            return (
                select(column)
                .where(OrganisationPricing.organisation_id == organisation_id)
                .scalar_subquery()
            )

        base_id, list_id, discount = db.session.execute(
            select(
                select(PriceList.id)
                .where(PriceList.is_base.is_(True))
                .order_by(PriceList.id)
                .limit(1)
                .scalar_subquery(),
                own(OrganisationPricing.price_list_id),
                own(OrganisationPricing.discount_percent),
            )
        ).one()
        remembered[organisation_id] = Terms(
            base_list_id=base_id,
            price_list_id=list_id,
            discount_percent=Decimal(discount) if discount is not None else Decimal("0"),
        )
    return remembered[organisation_id]


def _discounted(price: Decimal, percent: Decimal) -> Decimal:
    return to_money(price * (Decimal(100) - Decimal(percent)) / Decimal(100))


def _running(on: date):
    return (
        Promotion.ended_at.is_(None),
        Promotion.starts_on <= on,
        Promotion.ends_on >= on,
    )


def running_promotions_for(item_ids, on: date | None = None) -> dict[int, list[Promotion]]:
    """The promotions running on `on` per item: its own and its category's (ended, expired
    and future ones never apply). One query (per 900 items), whatever the number of items:
    every catalogue page with prices asks."""
    on = on or today()
    item_ids = list(set(item_ids))
    found: dict[int, list[Promotion]] = {}
    for start in range(0, len(item_ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = item_ids[start : start + 900]
        rows = db.session.execute(
            select(Item.id, Promotion)
            .join(
                Promotion,
                or_(
                    Promotion.item_id == Item.id,
                    and_(Item.category_id.is_not(None), Promotion.category_id == Item.category_id),
                ),
            )
            .where(Item.id.in_(chunk), *_running(on))
            .order_by(Item.id, Promotion.item_id.is_(None), Promotion.id)
        )
        for item_id, promotion in rows:
            found.setdefault(item_id, []).append(promotion)
    return found


def best_promotion(price: Decimal, promotions) -> tuple[Decimal, Promotion | None]:
    """(price to pay, the promotion giving it): the lowest of the running promotions' prices,
    or the price itself when none lowers it."""
    best, chosen = price, None
    for promotion in promotions or ():
        offered = promotion.price_from(price)
        if offered < best or (offered == best and chosen is not None and promotion.id < chosen.id):
            best, chosen = offered, promotion
    return best, chosen


def quotes_for(organisation_id, item_ids, on: date | None = None) -> dict[int, Quote]:
    """The organisation's price per item: its price type (else base) less its discount;
    a running promotion lowers it further. Items without any price are left out."""
    item_ids = list(set(item_ids))
    if not item_ids:
        return {}
    terms = terms_for(organisation_id)
    list_ids = [i for i in (terms.price_list_id, terms.base_list_id) if i is not None]
    prices: dict[int, dict[int, Decimal]] = {}
    for start in range(0, len(item_ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = item_ids[start : start + 900]
        rows = db.session.execute(
            select(ItemPrice.item_id, ItemPrice.price_list_id, ItemPrice.price).where(
                ItemPrice.item_id.in_(chunk), ItemPrice.price_list_id.in_(list_ids)
            )
        )
        for item_id, list_id, price in rows:
            prices.setdefault(item_id, {})[list_id] = price
    promotions = running_promotions_for(list(prices), on)
    quotes = {}
    for item_id, by_list in prices.items():
        priced = price_of(
            by_list.get(terms.price_list_id),
            by_list.get(terms.base_list_id),
            terms.discount_percent,
            promotions.get(item_id),
        )
        if priced is not None:
            final, price, promotion = priced
            quotes[item_id] = Quote(price=final, list_price=price, promotion=promotion)
    return quotes


def price_of(own, base, discount_percent, promotions=None):
    """(price to pay, price before the promotion, the promotion applied) from the
    organisation's own list price (else the base one), less its discount, then the best of
    the running promotions (a percentage off or a fixed price); None without a price.
    The one pricing rule: the cart, checkout, every listing and the price list use it."""
    listed = own or base
    if listed is None:
        return None
    price = _discounted(listed, discount_percent or Decimal("0"))
    final, promotion = best_promotion(price, promotions)
    return final, price, promotion


def percent_off(price: Decimal | None, list_price: Decimal | None) -> int | None:
    """How much a promotion takes off, in whole per cent, for the badge («−15 %»)."""
    if price is None or not list_price or price >= list_price:
        return None
    return max(1, int((Decimal(100) * (list_price - price) / list_price).to_integral_value()))


# --- warehouses and stock ---------------------------------------------------------------------


def warehouse_for_region(region: str | None) -> Warehouse | None:
    """The warehouse serving a region; the central one serves regions without their own.

    Remembered for the rest of the request: a catalogue page asks for it several times.
    """
    if not has_request_context():
        return _find_warehouse(region)
    remembered = g.setdefault("warehouse_for_region", {})
    if region not in remembered:
        remembered[region] = _find_warehouse(region)
    return remembered[region]


def warehouse_for_organisation(organisation) -> Warehouse | None:
    """The warehouse serving the organisation's default (else first) delivery address, else
    its own region, else the central one: one query, remembered for the request (every
    catalogue page asks)."""
    remembered = g.setdefault("warehouse_for_organisation", {}) if has_request_context() else {}
    if organisation.id not in remembered:
        remembered[organisation.id] = db.session.scalar(
            _serving_warehouse_statement(),
            {"organisation_id": organisation.id, "region": organisation.region},
        )
    return remembered[organisation.id]


@dataclass(frozen=True)
class WarehouseRef:
    """The serving warehouse as a catalogue page needs it: whose stock, under what name."""

    id: int
    name: str


def serving_warehouse_ref(organisation) -> WarehouseRef | None:
    """The warehouse serving the organisation (as `warehouse_for_organisation`), kept in
    this process for CATALOG_CACHE_SECONDS: every catalogue page asks, and the answer
    changes only with the organisation's addresses and the warehouses, which onboarding
    and data loads write. The cart and checkout ask afresh."""
    seconds = current_app.config["CATALOG_CACHE_SECONDS"]
    key = f"catalog:serving-warehouse:{organisation.id}"
    cached = local_cache.get(key) if seconds else None
    if cached is None:
        warehouse = warehouse_for_organisation(organisation)
        cached = (WarehouseRef(warehouse.id, warehouse.name),) if warehouse else ()
        if seconds:
            local_cache.set(key, cached, timeout=seconds)
    return cached[0] if cached else None


@functools.cache
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


def _find_warehouse(region: str | None) -> Warehouse | None:
    if region:
        warehouse = db.session.scalar(
            select(Warehouse).where(func.lower(Warehouse.region) == region.lower()).limit(1)
        )
        if warehouse is not None:
            return warehouse
    return db.session.scalar(
        select(Warehouse).order_by(Warehouse.is_central.desc(), Warehouse.id).limit(1)
    )


def delivery_date_for(warehouse: Warehouse, ordered_at=None) -> date:
    """The earliest delivery date from the warehouse for an order placed now (or at
    `ordered_at`, a local datetime): the rule of portal.catalog.delivery."""
    return earliest_delivery_date(warehouse, ordered_at)


def stock_in(warehouse_id, item_ids) -> dict[int, int]:
    if not item_ids:
        return {}
    found = {}
    item_ids = list(set(item_ids))
    for start in range(0, len(item_ids), 900):
        rows = db.session.execute(
            select(Stock.item_id, Stock.quantity).where(
                Stock.warehouse_id == warehouse_id, Stock.item_id.in_(item_ids[start : start + 900])
            )
        )
        found.update(dict(rows.all()))
    return found


def reserve_stock(warehouse_id, item_id, quantity) -> bool:
    """Take packs off the shelf in one atomic UPDATE: False when there are not enough."""
    result = db.session.execute(
        update(Stock)
        .where(
            Stock.warehouse_id == warehouse_id,
            Stock.item_id == item_id,
            Stock.quantity >= quantity,
        )
        .values(quantity=Stock.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        touch_items([item_id])
        return True
    return False


def reserve_stock_many(warehouse_id, wanted: dict[int, int]) -> list[int]:
    """Take packs of many items off the shelf at once (an order's lines): the stock rows are
    locked in item order (as reserve_stock line by line would), checked, then decremented in
    a few UPDATEs. Returns the items without enough stock ([] when all were taken); on a
    refusal the caller rolls the transaction back."""
    ids = sorted(wanted)
    short: list[int] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = db.session.execute(
            select(Stock.item_id, Stock.quantity)
            .where(Stock.warehouse_id == warehouse_id, Stock.item_id.in_(chunk))
            .order_by(Stock.item_id)
            .with_for_update()
        ).all()
        have = dict(rows)
        short += [i for i in chunk if have.get(i, 0) < wanted[i]]
    if short:
        return short
    for start in range(0, len(ids), 150):  # 5 bound values an item: under SQLite's 999
        chunk = ids[start : start + 150]
        amount = case({i: wanted[i] for i in chunk}, value=Stock.item_id)
        result = db.session.execute(
            update(Stock)
            .where(
                Stock.warehouse_id == warehouse_id,
                Stock.item_id.in_(chunk),
                Stock.quantity >= amount,
            )
            .values(quantity=Stock.quantity - amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):  # taken meanwhile (SQLite has no row locks)
            return chunk[:1]
    for start in range(0, len(ids), 900):
        touch_items(ids[start : start + 900])
    return []


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


def release_stock(warehouse_id, item_id, quantity) -> None:
    """Put packs back (a cancelled order); creates the stock row if it vanished meanwhile."""
    result = db.session.execute(
        update(Stock)
        .where(Stock.warehouse_id == warehouse_id, Stock.item_id == item_id)
        .values(quantity=Stock.quantity + quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        db.session.add(Stock(warehouse_id=warehouse_id, item_id=item_id, quantity=quantity))
        db.session.flush()
    else:
        touch_items([item_id])


def nearest_expiry(item_id) -> date | None:
    return nearest_expiries([item_id]).get(item_id)


def nearest_expiries(item_ids) -> dict[int, date]:
    """The earliest expiry date of each item's batches still in stock and not yet expired
    (an item without such a batch is left out): one query per 900 items."""
    found = {}
    item_ids = list(set(item_ids))
    for start in range(0, len(item_ids), 900):
        rows = db.session.execute(
            select(Batch.item_id, func.min(Batch.expires_on))
            .where(
                Batch.item_id.in_(item_ids[start : start + 900]),
                Batch.quantity > 0,
                Batch.expires_on >= today(),
            )
            .group_by(Batch.item_id)
        )
        found.update(dict(rows.all()))
    return found


# --- favourites, recently viewed, promotions ------------------------------------------------


def is_favourite(user_id, organisation_id, item_id) -> bool:
    return (
        db.session.scalar(
            select(Favourite.id).where(
                Favourite.user_id == user_id,
                Favourite.organisation_id == organisation_id,
                Favourite.item_id == item_id,
            )
        )
        is not None
    )


def toggle_favourite(user_id, organisation_id, item_id) -> bool:
    """Add the item to favourites or remove it; returns whether it is a favourite now."""
    existing = db.session.scalar(
        select(Favourite).where(
            Favourite.user_id == user_id,
            Favourite.organisation_id == organisation_id,
            Favourite.item_id == item_id,
        )
    )
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        return False
    db.session.add(Favourite(user_id=user_id, organisation_id=organisation_id, item_id=item_id))
    db.session.flush()
    return True


def favourite_ids(user_id, organisation_id, item_ids) -> set[int]:
    """Which of the given items the user keeps in favourites."""
    if not item_ids:
        return set()
    return set(
        db.session.scalars(
            select(Favourite.item_id).where(
                Favourite.user_id == user_id,
                Favourite.organisation_id == organisation_id,
                Favourite.item_id.in_(list(item_ids)),
            )
        )
    )


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


def favourite_item_ids(user_id, organisation_id) -> list[int]:
    """The user's favourite items in this organisation, by name."""
    return db.session.scalars(
        select(Item.id)
        .join(Favourite, Favourite.item_id == Item.id)
        .where(Favourite.user_id == user_id, Favourite.organisation_id == organisation_id)
        .order_by(ordered(Item.trade_name), Item.id)
    ).all()


def record_view(user_id, organisation_id, item_id) -> None:
    """Remember the item as viewed now, keeping only the latest few per user."""
    seen = db.session.scalar(
        select(RecentlyViewed).where(
            RecentlyViewed.user_id == user_id,
            RecentlyViewed.organisation_id == organisation_id,
            RecentlyViewed.item_id == item_id,
        )
    )
    if seen is None:
        db.session.add(
            RecentlyViewed(user_id=user_id, organisation_id=organisation_id, item_id=item_id)
        )
    else:
        seen.viewed_at = utcnow()
    db.session.flush()
    keep = (
        select(RecentlyViewed.id)
        .where(RecentlyViewed.user_id == user_id, RecentlyViewed.organisation_id == organisation_id)
        .order_by(RecentlyViewed.viewed_at.desc(), RecentlyViewed.id.desc())
        .limit(RECENTLY_VIEWED_KEPT)
    )
    kept = [row for row in db.session.scalars(keep)]
    db.session.execute(
        delete(RecentlyViewed).where(
            RecentlyViewed.user_id == user_id,
            RecentlyViewed.organisation_id == organisation_id,
            RecentlyViewed.id.not_in(kept),
        )
    )


def recently_viewed(user_id, organisation_id, limit=8):
    """(id, full name) of the items the user opened last, newest first."""
    rows = db.session.execute(
        _recently_viewed_statement(),
        {"user_id": user_id, "organisation_id": organisation_id, "limit": limit},
    )
    return [(row[0], full_item_name(*row[1:])) for row in rows]


@functools.cache
def _recently_viewed_statement():
    return (
        select(Item.id, Item.trade_name, Item.dosage_form, Item.strength, Item.pack_size)
        .join(RecentlyViewed, RecentlyViewed.item_id == Item.id)
        .where(
            RecentlyViewed.user_id == bindparam("user_id"),
            RecentlyViewed.organisation_id == bindparam("organisation_id"),
        )
        .order_by(RecentlyViewed.viewed_at.desc(), RecentlyViewed.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def active_promotions(limit=None, on: date | None = None):
    """Running promotions for the buyer's promotions page and panel, soonest ending first."""
    on = on or today()
    query = (
        select(Promotion)
        .outerjoin(Item, Item.id == Promotion.item_id)
        .options(contains_eager(Promotion.item), joinedload(Promotion.category))
        .where(*_running(on), or_(Promotion.category_id.isnot(None), Item.is_active.is_(True)))
        .order_by(Promotion.ends_on, Promotion.id)
    )
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


# --- matching codes from quick orders and files ------------------------------------------------


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


def running_promotions_for_all(on: date | None = None) -> dict[int, list[Promotion]]:
    """The running promotions per item across the catalogue (for the price list)."""
    on = on or today()
    found: dict[int, list[Promotion]] = {}
    running = db.session.scalars(select(Promotion).where(*_running(on))).all()
    by_category: dict[int, list[Promotion]] = {}
    for promotion in running:
        if promotion.item_id is not None:
            found.setdefault(promotion.item_id, []).append(promotion)
        else:
            by_category.setdefault(promotion.category_id, []).append(promotion)
    if by_category:
        for item_id, category_id in db.session.execute(
            select(Item.id, Item.category_id).where(Item.category_id.in_(list(by_category)))
        ):
            found.setdefault(item_id, []).extend(by_category[category_id])
    return found
