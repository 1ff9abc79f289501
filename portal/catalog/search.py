"""Catalogue search: the words as typed first; when they find nothing, the catalogue words
closest to them (a typo corrected); filters, sorting and pages.

A search answers with one page of item ids and the total. That answer is kept in the cache
(per process, or Redis in production: see `CACHE_TYPE`) for `CATALOG_CACHE_SECONDS`, keyed by
everything that changes it, so a search many buyers type costs one cache lookup. Only ids are
cached: names, prices, stock and favourites are read for the page on every request.
"""

import hashlib
from dataclasses import astuple, dataclass
from datetime import date
from difflib import SequenceMatcher

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, delete, event, exists, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from portal.catalog.models import (
    Category,
    Item,
    ItemPrice,
    Manufacturer,
    Promotion,
    SearchWord,
    Stock,
    normalise_search_text,
    search_words,
)
from portal.extensions import cache, db

PAGE_SIZE = 24
SORTS = {
    "name": _l("By name"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "newest": _l("Newest"),
}
# A catalogue word counts as "the query word with a typo" when at least this close (0..1).
FUZZY_THRESHOLD = 0.75
# Query words shorter than this are not corrected (too many words are one letter off).
FUZZY_MIN_LENGTH = 4
# How many catalogue words the trigram index proposes per query word before the check above,
# and how many of the closest are searched for (those as close as the best, less a margin).
FUZZY_CANDIDATES = 20
FUZZY_KEPT = 5
FUZZY_MARGIN = 0.05
FUZZY_PG_THRESHOLD = "0.3"  # pg_trgm similarity() that lets one wrong letter in a short word


@dataclass(frozen=True)
class SearchFilters:
    text: str = ""
    category_id: int | None = None
    manufacturer_id: int | None = None
    rx: str = ""  # "", "yes", "no"
    in_stock: bool = False
    promotion: bool = False
    vital: bool = False
    sort: str = "name"


@dataclass(frozen=True)
class Found:
    """One page of a search: the item ids in order, how many match in all, whether the
    matches are near words (typo-corrected) rather than the words as typed."""

    ids: tuple[int, ...]
    total: int
    fuzzy: bool


class ResultPage(Pagination):
    """Flask-SQLAlchemy's pagination (pages, iter_pages) over an already loaded page."""

    def _query_items(self):
        return self._query_args["items"]

    def _query_count(self):
        return self._query_args["total"]


def find(filters: SearchFilters, page: int, terms=None, warehouse_id=None, today=None) -> Found:
    """The page of items matching the filters (cached; see the module's docstring).

    `terms` (the organisation's price terms) matter only for sorting by price and
    `warehouse_id` only for "in stock"; neither is part of the answer otherwise.
    """
    today = today or date.today()
    seconds = current_app.config["CATALOG_CACHE_SECONDS"]
    key = None
    if seconds:
        key = _cache_key(filters, page, terms, warehouse_id, today)
        found = cache.get(key)
        if found is not None:
            return found
    found = _find(filters, page, terms, warehouse_id, today)
    if key:
        cache.set(key, found, timeout=seconds)
    return found


def _cache_key(filters, page, terms, warehouse_id, today) -> str:
    parts = [*astuple(filters), page]
    if filters.sort.startswith("price"):
        parts += [terms.price_list_id, terms.base_list_id] if terms else [None]
    if filters.in_stock:
        parts.append(warehouse_id)
    if filters.promotion:
        parts.append(today.isoformat())
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"catalog:search:{digest}"


def _find(filters, page, terms, warehouse_id, today) -> Found:
    query = _filtered(filters, warehouse_id, today)
    tokens = normalise_search_text(filters.text).split()
    if tokens:
        found = _matches_page(query.where(_contains_all(tokens)), filters.sort, terms, page)
        if found.total:
            return found
        near = _near_words_condition(tokens)
        if near is None:
            return Found((), 0, fuzzy=True)
        return _matches_page(query.where(near), filters.sort, terms, page, fuzzy=True)
    return _page(query, filters.sort, terms, page, fuzzy=False)


def _page(query, sort, terms, page, fuzzy) -> Found:
    """The ids of one page and the total; the count is skipped when page 1 is not full."""
    ordered = _sorted(query, sort, terms).with_only_columns(Item.id)
    ids = tuple(db.session.scalars(ordered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all())
    if page == 1 and len(ids) < PAGE_SIZE:
        return Found(ids, len(ids), fuzzy)
    return Found(ids, _count(query), fuzzy)


def _count(query) -> int:
    counted = query.with_only_columns(Item.id).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(counted))


def _matches_page(query, sort, terms, page, fuzzy=False) -> Found:
    """Like `_page` for the items matching search words. Their ids are read anyway to sort
    them, so the total comes with the page (`count(*) OVER ()`) instead of a second search.

    On PostgreSQL the matches are first collected through the trigram index into a
    MATERIALIZED CTE (with the columns the sort needs), then sorted. Left to itself the
    planner walks the name index hoping to meet matches early, but the count needs them
    all: a maker's 1,100 items took ~90 ms that way, 4 ms this way.
    """
    if db.engine.dialect.name == "postgresql":
        needed = query.with_only_columns(Item.id, Item.trade_name, Item.created_at)
        item = aliased(Item, needed.cte("matches").prefix_with("MATERIALIZED"))
        selected = select(item.id, func.count().over())
    else:
        item, selected = Item, query.with_only_columns(Item.id, func.count().over())
    ordered = _sorted(selected, sort, terms, item)
    rows = db.session.execute(ordered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    if not rows and page > 1:  # past the last page: the total is still wanted
        return Found((), _count(query), fuzzy)
    return Found(tuple(row[0] for row in rows), rows[0][1] if rows else 0, fuzzy)


def _filtered(filters: SearchFilters, warehouse_id, today):
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
        query = query.where(
            exists(
                select(Promotion.id).where(
                    Promotion.item_id == Item.id,
                    Promotion.starts_on <= today,
                    Promotion.ends_on >= today,
                )
            )
        )
    return query


def _sorted(query, sort, terms, item=Item):
    """The query in the buyer's order; `item` is Item or an alias of it (the matches CTE)."""
    if sort in ("price_asc", "price_desc") and terms is not None:
        own = aliased(ItemPrice)
        base = aliased(ItemPrice)
        query = query.outerjoin(
            own, and_(own.item_id == item.id, own.price_list_id == terms.price_list_id)
        ).outerjoin(base, and_(base.item_id == item.id, base.price_list_id == terms.base_list_id))
        price = func.coalesce(own.price, base.price)
        # Items without a price go last either way.
        missing_last = case((price.is_(None), 1), else_=0)
        ordered = price.asc() if sort == "price_asc" else price.desc()
        return query.order_by(missing_last, ordered, item.id)
    if sort == "newest":
        return query.order_by(item.created_at.desc(), item.id.desc())
    return query.order_by(item.trade_name, item.id)


def _contains_all(words):
    """Every word somewhere in the item's search text (the trigram index serves it on PG)."""
    return and_(*[Item.search_text.like(f"%{word}%") for word in words])


# --- typos: the query's words against the catalogue's words -----------------------------------


def _near_words_condition(tokens):
    """Items containing, for every longer query word, that word or a catalogue word close to
    it, and every short word as typed («нурафен 200 мг»: Нурофен, but only 200 mg); None
    when no word could be corrected (nothing new would be found)."""
    conditions, corrected = [], False
    for token in tokens:
        if len(token) < FUZZY_MIN_LENGTH:
            conditions.append(Item.search_text.like(f"%{token}%"))
            continue
        words = close_words(token)
        corrected = corrected or bool(words)
        conditions.append(
            or_(*[Item.search_text.like(f"%{word}%") for word in dict.fromkeys([token, *words])])
        )
    return and_(*conditions) if corrected else None


def close_words(token: str) -> list[str]:
    """Catalogue words that differ from the token by a letter or two, closest first."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            select(func.set_config("pg_trgm.similarity_threshold", FUZZY_PG_THRESHOLD, True))
        )
        candidates = db.session.scalars(
            select(SearchWord.word)
            .where(SearchWord.word.op("%")(token))
            .order_by(SearchWord.word.op("<->")(token), SearchWord.word)  # nearest first
            .limit(FUZZY_CANDIDATES)
        )
    else:  # SQLite: words sharing a three-letter piece with the token
        pieces = {token[i : i + 3] for i in range(len(token) - 2)}
        candidates = db.session.scalars(
            select(SearchWord.word).where(or_(*[SearchWord.word.like(f"%{p}%") for p in pieces]))
        )
    scored = []
    for word in candidates:
        closeness = SequenceMatcher(None, token, word).ratio()
        if closeness >= FUZZY_THRESHOLD and word != token:
            scored.append((closeness, word))
    if not scored:
        return []
    best = max(closeness for closeness, _word in scored)
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [word for closeness, word in scored[:FUZZY_KEPT] if closeness >= best - FUZZY_MARGIN]


def rebuild_search_words() -> int:
    """Replace the word list with the words of the active items (after an import, or after
    items were written around the ORM, e.g. by COPY). Returns the number of words."""
    words: set[str] = set()
    rows = db.session.execute(
        select(Item.search_text).where(Item.is_active.is_(True)).execution_options(yield_per=5000)
    )
    for (text,) in rows:
        words |= search_words(text or "")
    db.session.execute(delete(SearchWord))
    ordered = sorted(words)
    for start in range(0, len(ordered), 5000):
        db.session.execute(
            insert(SearchWord), [{"word": word} for word in ordered[start : start + 5000]]
        )
    return len(words)


@event.listens_for(Session, "after_flush")
def _add_words_of_saved_items(session, _flush_context):
    """A new or renamed item's words join the word list in the same transaction."""
    texts = [
        obj.search_text
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Item) and obj.search_text
    ]
    words = set().union(*(search_words(text) for text in texts)) if texts else set()
    if not words:
        return
    connection = session.connection()
    listed, known = sorted(words), set()
    for start in range(0, len(listed), 900):  # SQLite's bound-parameter limit
        chunk = listed[start : start + 900]
        known.update(connection.scalars(select(SearchWord.word).where(SearchWord.word.in_(chunk))))
    missing = [word for word in listed if word not in known]
    if missing:
        connection.execute(insert(SearchWord), [{"word": word} for word in missing])


# --- filter choices ----------------------------------------------------------------------------


def filter_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(categories, manufacturers) as (id, name) pairs for the filter form (cached)."""
    seconds = current_app.config["CATALOG_CACHE_SECONDS"]
    choices = cache.get("catalog:filter-choices") if seconds else None
    if choices is None:
        choices = tuple(
            [
                tuple(row)
                for row in db.session.execute(select(model.id, model.name).order_by(model.name))
            ]
            for model in (Category, Manufacturer)
        )
        if seconds:
            cache.set("catalog:filter-choices", choices, timeout=seconds)
    return choices


def forget_cached_results() -> None:
    """After the catalogue changed (an import): searches are answered afresh."""
    cache.clear()
