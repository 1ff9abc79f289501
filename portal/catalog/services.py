"""Catalogue rules: prices for an organisation, search, stock, favourites, recently viewed."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from difflib import SequenceMatcher

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from portal.catalog.models import (
    Batch,
    Favourite,
    Item,
    ItemPrice,
    OrganisationPricing,
    PriceList,
    Promotion,
    RecentlyViewed,
    Stock,
    Warehouse,
    normalise_search_text,
)
from portal.database import utcnow
from portal.extensions import db
from portal.money import to_money

PAGE_SIZE = 24
RECENTLY_VIEWED_KEPT = 20
# A fuzzy match must be at least this close (0..1) to count as "the same word with a typo".
FUZZY_THRESHOLD = 0.75
FUZZY_PG_THRESHOLD = "0.4"  # pg_trgm word_similarity for the same purpose


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


def base_price_list() -> PriceList | None:
    return db.session.scalar(select(PriceList).where(PriceList.is_base.is_(True)).limit(1))


def terms_for(organisation_id) -> Terms:
    base = base_price_list()
    pricing = db.session.scalar(
        select(OrganisationPricing).where(OrganisationPricing.organisation_id == organisation_id)
    )
    return Terms(
        base_list_id=base.id if base else None,
        price_list_id=pricing.price_list_id if pricing else None,
        discount_percent=pricing.discount_percent if pricing else Decimal("0"),
    )


def _discounted(price: Decimal, percent: Decimal) -> Decimal:
    return to_money(price * (Decimal(100) - Decimal(percent)) / Decimal(100))


def active_promotions_for(item_ids, on: date | None = None) -> dict[int, Promotion]:
    """The best running promotion per item (expired and future ones never apply)."""
    on = on or today()
    found = {}
    if not item_ids:
        return found
    rows = db.session.scalars(
        select(Promotion).where(
            Promotion.item_id.in_(list(item_ids)),
            Promotion.starts_on <= on,
            Promotion.ends_on >= on,
        )
    )
    for promotion in rows:
        best = found.get(promotion.item_id)
        if best is None or promotion.discount_percent > best.discount_percent:
            found[promotion.item_id] = promotion
    return found


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
    promotions = active_promotions_for(item_ids, on)
    quotes = {}
    for item_id, by_list in prices.items():
        listed = by_list.get(terms.price_list_id) or by_list.get(terms.base_list_id)
        if listed is None:
            continue
        price = _discounted(listed, terms.discount_percent)
        promotion = promotions.get(item_id)
        final = _discounted(price, promotion.discount_percent) if promotion else price
        quotes[item_id] = Quote(price=final, list_price=price, promotion=promotion)
    return quotes


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


def delivery_date_for(warehouse: Warehouse, ordered_on: date | None = None) -> date:
    """The warehouse's lead time in working days (no deliveries on Saturday or Sunday)."""
    day = ordered_on or today()
    remaining = max(warehouse.lead_time_days, 1)
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


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
    return result.rowcount == 1


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


def nearest_expiry(item_id) -> date | None:
    return db.session.scalar(
        select(func.min(Batch.expires_on)).where(
            Batch.item_id == item_id, Batch.quantity > 0, Batch.expires_on >= today()
        )
    )


# --- search -----------------------------------------------------------------------------------

SORTS = {
    "name": _l("By name"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "newest": _l("Newest"),
}


@dataclass
class SearchFilters:
    text: str = ""
    category_id: int | None = None
    manufacturer_id: int | None = None
    rx: str = ""  # "", "yes", "no"
    in_stock: bool = False
    promotion: bool = False
    vital: bool = False
    sort: str = "name"


def _text_condition(tokens):
    return and_(*[Item.search_text.like(f"%{token}%") for token in tokens])


def _fuzzy_item_ids(text: str, limit: int = 500) -> list[int]:
    """Items whose words are close to the query's words (one or two letters off)."""
    normalised = normalise_search_text(text)
    tokens = [t for t in normalised.split() if len(t) >= 4]
    if not tokens:
        return []
    if db.engine.dialect.name == "postgresql":
        # pg_trgm: word_similarity finds the query inside longer text; the <% operator uses
        # the GIN trigram index created by the migration.
        score = func.word_similarity(normalised, Item.search_text)
        # The default threshold (0.6) misses one wrong letter in a short name; 0.4 does not.
        db.session.execute(
            select(func.set_config("pg_trgm.word_similarity_threshold", FUZZY_PG_THRESHOLD, True))
        )
        rows = db.session.execute(
            select(Item.id)
            .where(Item.is_active.is_(True), literal(normalised).op("<%")(Item.search_text))
            .order_by(score.desc(), Item.id)
            .limit(limit)
        )
        return [row[0] for row in rows]
    # SQLite: candidates share a 3-letter piece of a query word; then compare word by word.
    pieces = {token[i : i + 3] for token in tokens for i in range(0, len(token) - 2)}
    candidates = db.session.execute(
        select(Item.id, Item.search_text)
        .where(Item.is_active.is_(True), or_(*[Item.search_text.like(f"%{p}%") for p in pieces]))
        .limit(20000)
    )
    scored = []
    for item_id, search_text in candidates:
        words = search_text.split()
        closeness = min(
            max(SequenceMatcher(None, token, word).ratio() for word in words) for token in tokens
        )
        if closeness >= FUZZY_THRESHOLD:
            scored.append((-closeness, item_id))
    scored.sort()
    return [item_id for _score, item_id in scored[:limit]]


def _any_row(query) -> bool:
    """Whether the select of Items finds anything at all."""
    ids = query.with_only_columns(Item.id)
    if db.engine.dialect.name == "postgresql":
        # Under a plain LIMIT 1 PostgreSQL bets on a sequential scan meeting a match early;
        # when nothing matches (every typo) it reads all 50,000 rows (~30 ms). A materialised
        # CTE is planned for all its rows, so it uses the trigram index, and is still read lazily.
        matches = ids.cte("exact_matches").prefix_with("MATERIALIZED")
        return db.session.scalar(select(matches.c.id).limit(1)) is not None
    return db.session.scalar(select(ids.limit(1).subquery().c.id)) is not None


def search_query(filters: SearchFilters, organisation_id=None, warehouse_id=None):
    """A select of Items matching the filters; typo-tolerant when the exact words find nothing.

    Returns (query, fuzzy) where fuzzy tells the page that it shows near matches.
    """
    query = select(Item).where(Item.is_active.is_(True))
    if filters.category_id:
        query = query.where(Item.category_id == filters.category_id)
    if filters.manufacturer_id:
        query = query.where(Item.manufacturer_id == filters.manufacturer_id)
    if filters.rx == "yes":
        query = query.where(Item.is_rx.is_(True))
    elif filters.rx == "no":
        query = query.where(Item.is_rx.is_(False))
    if filters.vital:
        query = query.where(Item.is_vital.is_(True))
    if filters.in_stock:
        stocked = select(Stock.id).where(Stock.item_id == Item.id, Stock.quantity > 0)
        if warehouse_id:
            stocked = stocked.where(Stock.warehouse_id == warehouse_id)
        query = query.where(exists(stocked))
    if filters.promotion:
        on = today()
        query = query.where(
            exists(
                select(Promotion.id).where(
                    Promotion.item_id == Item.id,
                    Promotion.starts_on <= on,
                    Promotion.ends_on >= on,
                )
            )
        )
    fuzzy = False
    tokens = normalise_search_text(filters.text).split()
    if tokens:
        exact = query.where(_text_condition(tokens))
        if _any_row(exact):
            query = exact
        else:
            fuzzy = True
            query = query.where(Item.id.in_(_fuzzy_item_ids(filters.text) or [-1]))
    query = _sorted(query, filters.sort, organisation_id)
    return query, fuzzy


def _sorted(query, sort, organisation_id):
    if sort in ("price_asc", "price_desc") and organisation_id is not None:
        terms = terms_for(organisation_id)
        own = aliased(ItemPrice)
        base = aliased(ItemPrice)
        query = query.outerjoin(
            own, and_(own.item_id == Item.id, own.price_list_id == terms.price_list_id)
        ).outerjoin(base, and_(base.item_id == Item.id, base.price_list_id == terms.base_list_id))
        price = func.coalesce(own.price, base.price)
        # Items without a price go last either way.
        missing_last = case((price.is_(None), 1), else_=0)
        ordered = price.asc() if sort == "price_asc" else price.desc()
        return query.order_by(missing_last, ordered, Item.id)
    if sort == "newest":
        return query.order_by(Item.created_at.desc(), Item.id.desc())
    return query.order_by(Item.trade_name, Item.id)


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


def favourites(user_id, organisation_id):
    return db.session.scalars(
        select(Item)
        .join(Favourite, Favourite.item_id == Item.id)
        .where(Favourite.user_id == user_id, Favourite.organisation_id == organisation_id)
        .order_by(Item.trade_name)
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
    return db.session.scalars(
        select(Item)
        .join(RecentlyViewed, RecentlyViewed.item_id == Item.id)
        .where(RecentlyViewed.user_id == user_id, RecentlyViewed.organisation_id == organisation_id)
        .order_by(RecentlyViewed.viewed_at.desc(), RecentlyViewed.id.desc())
        .limit(limit)
    ).all()


def active_promotions(limit=None, on: date | None = None):
    on = on or today()
    query = (
        select(Promotion)
        .join(Item, Item.id == Promotion.item_id)
        .where(Promotion.starts_on <= on, Promotion.ends_on >= on, Item.is_active.is_(True))
        .order_by(Promotion.ends_on, Promotion.id)
    )
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


# --- matching codes from quick orders and files ------------------------------------------------


def items_by_code(codes) -> dict[str, Item]:
    """Map each given SKU or EAN-13 barcode (as typed) to an active item."""
    wanted = {str(c).strip() for c in codes if str(c).strip()}
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


def active_promotions_for_all(on: date | None = None) -> dict[int, Promotion]:
    """The best running promotion per item across the catalogue (for the price list)."""
    on = on or today()
    found = {}
    for promotion in db.session.scalars(
        select(Promotion).where(Promotion.starts_on <= on, Promotion.ends_on >= on)
    ):
        best = found.get(promotion.item_id)
        if best is None or promotion.discount_percent > best.discount_percent:
            found[promotion.item_id] = promotion
    return found
