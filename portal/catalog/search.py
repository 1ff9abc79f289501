"""Catalogue search: the words as typed first; when they find nothing, the catalogue words
closest to them (a typo corrected); filters, sorting and pages.

A search answers with one page of item ids and the total. That answer is kept in the shared
cache (portal.caching.SEARCH_ANSWERS), keyed by everything that changes it, so a search many
buyers type costs one cache lookup. Only ids are cached: names, prices, stock and favourites
are read for the page on every request.
"""

import functools
import re
from dataclasses import astuple, dataclass
from datetime import date
from difflib import SequenceMatcher

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from portal import caching
from portal.catalog.models import (
    Category,
    Item,
    ItemPrice,
    Manufacturer,
    Promotion,
    SearchWord,
    normalise_search_text,
)
from portal.catalog.spelling import (
    cyrillic_readings,
    keyboard_swapped,
    latin_readings,
    other_spellings,
)
from portal.collation import ordered
from portal.extensions import db
from portal.inventory.models import Stock

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
    matches are other spellings (another layout, alphabet or a typo corrected) rather than
    the words as typed."""

    ids: tuple[int, ...]
    total: int
    fuzzy: bool
    # When nothing was found: queries close to the one typed that do find items.
    suggestions: tuple[str, ...] = ()


class ResultPage(Pagination):
    """Flask-SQLAlchemy's pagination (pages, iter_pages) over an already loaded page."""

    def _query_items(self):
        return self._query_args["items"]

    def _query_count(self):
        return self._query_args["total"]


def find(filters: SearchFilters, page: int, terms=None, warehouse_id=None, today=None) -> Found:
    """The page of items matching the filters (cached: caching.SEARCH_ANSWERS).

    `terms` (the organisation's price terms) matter only for sorting by price and
    `warehouse_id` only for "in stock"; neither is part of the answer otherwise.
    """
    today = today or date.today()
    return caching.remember(
        caching.SEARCH_ANSWERS,
        _cache_key(filters, page, terms, warehouse_id, today),
        lambda: _find(filters, page, terms, warehouse_id, today),
    )


def answer_key(filters: SearchFilters, page: int, terms=None, warehouse_id=None, today=None):
    """(fact, key) of find()'s cached answer, for caching.prefetch: a page reads it from the
    shared cache together with the other facts it needs."""
    key = _cache_key(filters, page, terms, warehouse_id, today or date.today())
    return (caching.SEARCH_ANSWERS, key)


def _cache_key(filters, page, terms, warehouse_id, today) -> tuple:
    """Everything that changes the answer, and nothing else (one entry serves every buyer)."""
    parts = [*astuple(filters), page]
    if filters.sort.startswith("price"):
        parts += [terms.price_list_id, terms.base_list_id] if terms else [None]
    if filters.in_stock:
        parts.append(warehouse_id)
    if filters.promotion:
        parts.append(today.isoformat())
    return tuple(parts)


def _find(filters, page, terms, warehouse_id, today) -> Found:
    """The words as typed; if they find nothing, the words on the other keyboard layout or
    in the other alphabet; then the catalogue words close to any of those (typos); if still
    nothing, «did you mean» queries that do find something."""
    words = query_words(filters.text)
    tokens = [word for word, _typed in words]
    found = _search(filters, [[token] for token in tokens], page, terms, warehouse_id, today)
    if found.total or not tokens:
        return found
    alternatives = [[word, *other_spellings(typed)] for word, typed in words]
    if any(len(spellings) > 1 for spellings in alternatives):
        found = _search(filters, alternatives, page, terms, warehouse_id, today, fuzzy=True)
        if found.total:
            return found
    spellings = _near_spellings(_fuzzy_bases(words))
    if spellings is not None:
        found = _search(filters, spellings, page, terms, warehouse_id, today, fuzzy=True)
        if found.total:
            return found
    return Found((), 0, fuzzy=True, suggestions=tuple(_suggestions(filters, words, today)))


# Punctuation typed around a word («нурофен,», «(мазь)») is not part of it.
_EDGE_PUNCTUATION = ".,;:!?\"'«»()[]{}<>"


def query_words(text: str) -> list[tuple[str, str]]:
    """(word to search, word as typed) for every word of a query, normalised as the stored
    text is; as typed keeps the punctuation that is a letter on the other layout (»,» is
    «б», «[» is «х»). Words without a letter or digit («/», «+») are left out."""
    words = []
    for typed in normalise_search_text(text).split():
        word = typed.strip(_EDGE_PUNCTUATION)
        if any(char.isalnum() for char in word):
            words.append((word, typed))
    return words


def _fuzzy_bases(words) -> list[list[str]]:
    """Per query word, the spellings whose typos are looked for: the word itself; for a
    Latin word also its other layout and its two likeliest Russian readings; for a Cyrillic
    word its likeliest Latin reading (a maker or brand written in Latin)."""
    bases = []
    for word, typed in words:
        spellings = [word]
        if word.isascii():
            swapped = keyboard_swapped(typed)
            spellings += ([swapped] if swapped else []) + latin_readings(word)[:2]
        else:
            spellings += cyrillic_readings(word)[:1]
        bases.append(list(dict.fromkeys(spellings)))
    return bases


@dataclass(frozen=True)
class _Shape:
    """What a search's SQL depends on, values aside: its statements are built once per shape
    (building them cost more Python time than PostgreSQL took to answer)."""

    dialect: str
    spellings: tuple[int, ...]  # per query word, how many spellings are accepted (1 = as typed)
    sort: str
    category: bool
    manufacturer: bool
    rx: str
    in_stock: bool
    in_warehouse: bool
    promotion: bool
    vital: bool


def _search(filters, spellings, page, terms, warehouse_id, today, fuzzy=False) -> Found:
    """One page of the items having, for every query word, one of its spellings in their
    search text (no words: the whole filtered catalogue), and the total."""
    sort = filters.sort if terms is not None or not filters.sort.startswith("price") else "name"
    shape = _Shape(
        db.engine.dialect.name,
        tuple(len(words) for words in spellings),
        sort,
        bool(filters.category_id),
        bool(filters.manufacturer_id),
        filters.rx if filters.rx in ("yes", "no") else "",
        filters.in_stock,
        bool(filters.in_stock and warehouse_id),
        filters.promotion,
        filters.vital,
    )
    params = {
        f"word_{i}_{j}": word_pattern(word)
        for i, words in enumerate(spellings)
        for j, word in enumerate(words)
    }
    params.update(
        category_id=filters.category_id,
        manufacturer_id=filters.manufacturer_id,
        warehouse_id=warehouse_id,
        today=today,
        page_size=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if sort.startswith("price"):
        params.update(price_list_id=terms.price_list_id, base_list_id=terms.base_list_id)
    if sort == "name" and spellings:
        params.update({f"lead_{j}": f" {word}%" for j, word in enumerate(spellings[0])})
    page_statement, count_statement = _statements(shape)
    rows = db.session.execute(page_statement, params).all()
    if not spellings:  # the page alone; the count is skipped when page 1 is not full
        ids = tuple(row[0] for row in rows)
        if page == 1 and len(ids) < PAGE_SIZE:
            return Found(ids, len(ids), fuzzy)
        return Found(ids, db.session.scalar(count_statement, params), fuzzy)
    if not rows and page > 1:  # past the last page: the total is still wanted
        return Found((), db.session.scalar(count_statement, params), fuzzy)
    return Found(tuple(row[0] for row in rows), rows[0][1] if rows else 0, fuzzy)


_DOSE = re.compile(r"\d{1,4}(?:\.\d+)?")


def word_pattern(word: str) -> str:
    """The LIKE pattern of a query word against the search text (which has a space before
    every word): a dose or other short number is a whole word («10» is not «100» nor the
    middle of a barcode), a word of one or two letters begins a word («мл» is not the
    middle of «амлодипин»), longer words and codes match anywhere («нуроф», «00007»)."""
    if _DOSE.fullmatch(word):
        return f"% {word} %"
    if len(word) < 3:
        return f"% {word}%"
    return f"%{word}%"


@functools.lru_cache(maxsize=256)  # bounded: a query's word count is the buyer's to choose
def _statements(shape: _Shape):
    """The page and the count statements of a shape, values as bound parameters.

    With search words the page reads its total too (`count(*) OVER ()`): the matches are
    all read anyway to sort them. On PostgreSQL the matches are first collected through the
    trigram index into a MATERIALIZED CTE (with the columns the sort needs), then sorted;
    left to itself the planner walks the name index hoping to meet matches early, but the
    count needs them all: a maker's 1,100 items took ~90 ms that way, 4 ms this way.
    """
    query = _filtered(shape).where(*_spelling_conditions(shape.spellings))
    counted = query.with_only_columns(Item.id).subquery()
    count_statement = select(func.count()).select_from(counted)
    # Sorted by name, the items whose name begins with the first query word come first.
    lead = None
    if shape.spellings and shape.sort == "name":
        lead = or_(
            *[Item.search_text.like(bindparam(f"lead_{j}")) for j in range(shape.spellings[0])]
        )
    if not shape.spellings:
        selected, item = query.with_only_columns(Item.id), Item
    elif shape.dialect == "postgresql":
        columns = [Item.id, Item.trade_name, Item.created_at]
        if lead is not None:  # worked out while collecting (narrower rows than the text)
            columns.append(lead.label("lead"))
        matches = query.with_only_columns(*columns).cte("matches").prefix_with("MATERIALIZED")
        item = aliased(Item, matches)
        lead = matches.c.lead if lead is not None else None
        selected = select(item.id, func.count().over())
    else:
        selected, item = query.with_only_columns(Item.id, func.count().over()), Item
    page_statement = (
        _sorted(selected, shape.sort, item, lead)
        .limit(bindparam("page_size", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return page_statement, count_statement


def _spelling_conditions(spellings: tuple[int, ...]):
    """Every query word (one of its spellings, as `word_pattern`) in the item's search text;
    the trigram index serves these LIKE patterns on PostgreSQL."""
    return [
        or_(*[Item.search_text.like(bindparam(f"word_{i}_{j}")) for j in range(count)])
        for i, count in enumerate(spellings)
    ]


def _filtered(shape: _Shape):
    query = select(Item).where(Item.is_active.is_(True))
    if shape.category:
        query = query.where(Item.category_id == bindparam("category_id"))
    if shape.manufacturer:
        query = query.where(Item.manufacturer_id == bindparam("manufacturer_id"))
    if shape.rx:
        query = query.where(Item.is_rx.is_(shape.rx == "yes"))
    if shape.vital:
        query = query.where(Item.is_vital.is_(True))
    if shape.in_stock:
        stocked = select(Stock.id).where(Stock.item_id == Item.id, Stock.quantity > 0)
        if shape.in_warehouse:
            stocked = stocked.where(Stock.warehouse_id == bindparam("warehouse_id"))
        query = query.where(exists(stocked))
    if shape.promotion:
        today = bindparam("today", type_=Date)
        running = select(Promotion.id).where(
            or_(Promotion.item_id == Item.id, Promotion.category_id == Item.category_id),
            Promotion.ended_at.is_(None),
            Promotion.starts_on <= today,
            Promotion.ends_on >= today,
        )
        query = query.where(exists(running))
    return query


def _sorted(query, sort, item, lead=None):
    """The query in the buyer's order; `item` is Item or an alias of it (the matches CTE).

    By name means Russian alphabetical order (portal/collation.py), the items for which
    `lead` holds (their name begins with the first query word) first: «диклофенак» lists
    Диклофенак before Вольтарен (МНН диклофенак)."""
    if sort in ("price_asc", "price_desc"):
        own = aliased(ItemPrice)
        base = aliased(ItemPrice)
        query = query.outerjoin(
            own, and_(own.item_id == item.id, own.price_list_id == bindparam("price_list_id"))
        ).outerjoin(
            base, and_(base.item_id == item.id, base.price_list_id == bindparam("base_list_id"))
        )
        price = func.coalesce(own.price, base.price)
        # Items without a price go last either way.
        missing_last = case((price.is_(None), 1), else_=0)
        by_price = price.asc() if sort == "price_asc" else price.desc()
        return query.order_by(missing_last, by_price, item.id)
    if sort == "newest":
        return query.order_by(item.created_at.desc(), item.id.desc())
    if lead is not None:
        return query.order_by(case((lead, 0), else_=1), ordered(item.trade_name), item.id)
    return query.order_by(ordered(item.trade_name), item.id)


# --- typos: the query's words against the catalogue's words -----------------------------------


def _near_spellings(bases) -> list[list[str]] | None:
    """For every query word (as its spellings, see `_fuzzy_bases`), those spellings and the
    catalogue words close to the longer ones; short words as typed («нурафен 200 мг»:
    Нурофен, but only 200 mg). None when no word could be corrected (nothing new would be
    found)."""
    spellings, corrected = [], False
    for forms in bases:
        words = [w for form in forms if len(form) >= FUZZY_MIN_LENGTH for w in close_words(form)]
        corrected = corrected or bool(words)
        spellings.append(list(dict.fromkeys([forms[0], *words])))
    return spellings if corrected else None


def close_words(token: str, threshold=FUZZY_THRESHOLD, pg_threshold=FUZZY_PG_THRESHOLD):
    """Catalogue words that differ from the token by a letter or two, closest first
    (`threshold`: how close, 0..1, by difflib; `pg_threshold`: pg_trgm's similarity bar for
    the candidates the index proposes)."""
    if db.engine.dialect.name == "postgresql":
        # Transaction-local (a literal true: see portal/transactions.py).
        local = literal_column("true")
        db.session.execute(
            select(func.set_config("pg_trgm.similarity_threshold", pg_threshold, local))
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
        if closeness >= threshold and word != token:
            scored.append((closeness, word))
    if not scored:
        return []
    best = max(closeness for closeness, _word in scored)
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [word for closeness, word in scored[:FUZZY_KEPT] if closeness >= best - FUZZY_MARGIN]


# --- «did you mean»: when nothing at all was found --------------------------------------------

# A suggestion may be further from the query than a silent correction: the buyer chooses.
_SUGGEST = (0.7, "0.2")  # close_words' thresholds (difflib, pg_trgm)
SUGGESTIONS = 3


def _suggestions(filters, words, today) -> list[str]:
    """Up to three queries that find items under the same filters, the likeliest first:
    the query with each longer word replaced by its nearest catalogue word (names, МНН,
    makers); the longer words alone, as typed and then replaced («нурофен 300 мг» ->
    «нурофен», «ибупрофен»); each near word by itself."""
    typed = [word for word, _typed in words]
    names = [i for i, word in enumerate(typed) if len(word) >= FUZZY_MIN_LENGTH]
    near = {}
    for i, forms in zip(names, [_fuzzy_bases(words)[i] for i in names], strict=True):
        found = [w for form in forms for w in close_words(form, *_SUGGEST)]
        near[i] = list(dict.fromkeys(found))
    replaced = [near[i][0] if near.get(i) else word for i, word in enumerate(typed)]
    candidates = [
        replaced,
        [typed[i] for i in names],
        [replaced[i] for i in names],
        *[[word] for i in names for word in near[i][:SUGGESTIONS]],
    ]
    suggestions = []
    for candidate in candidates:
        text = " ".join(candidate)
        if not candidate or text in suggestions or candidate == typed:
            continue
        if _search(filters, [[word] for word in candidate], 1, None, None, today).total:
            suggestions.append(text)
        if len(suggestions) == SUGGESTIONS:
            break
    return suggestions


# --- filter choices ----------------------------------------------------------------------------


def filter_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(categories, manufacturers) as (id, name) pairs for the filter form (cached:
    caching.FILTER_CHOICES)."""
    return caching.remember(caching.FILTER_CHOICES, "all", _read_filter_choices)


def _read_filter_choices():
    return tuple(
        [
            tuple(row)
            for row in db.session.execute(
                select(model.id, model.name).order_by(ordered(model.name))
            )
        ]
        for model in (Category, Manufacturer)
    )
