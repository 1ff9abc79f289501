"""Search as buyers type it: a corpus of real-world queries against the demo catalogue (about
70 medicines in 260 items), each with the item a buyer expects first; «did you mean»
suggestions; Russian alphabetical order. Run on SQLite and (PORTAL_TEST_DATABASE_URL) on
PostgreSQL, where the trigram index and the ICU collation answer."""

import csv
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import literal_column, select, text, union_all

from portal.catalog.models import Item, normalise_search_text
from portal.catalog.search import SearchFilters, find
from portal.catalog.spelling import keyboard_swapped, latin_readings
from portal.collation import russian_sort_key
from portal.demo import catalog as demo
from portal.extensions import db
from tests.catalog.builders import make_item
from tests.catalog.test_catalogue import listing

CORPUS = Path(__file__).with_name("search_corpus.csv")
SKU = re.compile(r"[AK]\d{5}")


def corpus() -> list[tuple[str, str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as file:
        return [tuple(row) for row in list(csv.reader(file))[1:]]


@pytest.fixture
def demo_catalogue(app):
    demo._seed_items()
    db.session.commit()


def test_the_corpus_is_large_and_varied():
    rows = corpus()
    kinds = {kind for kind, _query, _expected in rows}
    assert len(rows) >= 50
    assert {"glued units", "wrong layout", "latin", "typo", "partial word", "EAN", "SKU"} <= kinds
    assert {"mixed case", "extra spaces"} <= kinds


def test_every_corpus_query_finds_its_item_first(demo_catalogue):
    missed = []
    for kind, query, expected in corpus():
        found = find(SearchFilters(text=query), 1)
        first = db.session.get(Item, found.ids[0]) if found.ids else None
        got = None if first is None else first.sku if SKU.fullmatch(expected) else first.full_name
        if got != expected:
            missed.append(f"{kind}: {query!r} -> {got!r}, expected {expected!r}")
    assert not missed, "\n".join(missed)


def test_glued_units_find_what_spaced_ones_find(demo_catalogue):
    for glued, spaced in [
        ("нурофен 200мг", "нурофен 200 мг"),
        ("бинт 7х14", "бинт 7 х 14"),
        ("гриппол 0,5мл", "гриппол 0.5 мл"),
        ("10мг/мл", "10 мг / мл"),
    ]:
        assert find(SearchFilters(text=glued), 1) == find(SearchFilters(text=spaced), 1)
        assert find(SearchFilters(text=glued), 1).total > 0


def test_a_dose_is_a_whole_number_and_a_unit_starts_a_word(demo_catalogue):
    # «20 мг» is not «200 мг» nor the middle of a barcode; «мл» is not inside «амлодипин».
    page = find(SearchFilters(text="20 мг"), 1)
    strengths = {db.session.get(Item, item_id).strength for item_id in page.ids}
    assert strengths and all(" 20 мг" in f" {strength}" for strength in strengths)
    names = {db.session.get(Item, i).trade_name for i in find(SearchFilters(text="мл"), 1).ids}
    assert "Амлодипин" not in names and "Гриппол плюс" in names


def test_normalised_text_splits_units_and_unifies_signs():
    assert normalise_search_text("Нурофен 200мг") == "нурофен 200 мг"
    assert normalise_search_text("бинт 7х14") == normalise_search_text("Бинт 7 × 14")
    assert normalise_search_text("7*14") == "7 x 14" == normalise_search_text("7 X 14")
    assert normalise_search_text("0,5г") == "0.5 г"
    assert normalise_search_text("10 мг/мл") == "10 мг / мл"
    assert normalise_search_text("Ёж, 0,1%") == "еж, 0.1 %"
    # Codes keep their letters: a SKU, a vitamin.
    assert normalise_search_text("A00007 Магне B6") == "a00007 магне b6"


def test_keyboard_layout_and_latin_readings():
    assert keyboard_swapped("ytdhjaty") == "неврофен"  # what those keys spell (Нурофен near)
    assert keyboard_swapped("yehjaty") == "нурофен"
    assert keyboard_swapped("gfhfwtnfvjk") == "парацетамол"
    assert keyboard_swapped(",bcjghjkjk") == "бисопролол"
    assert keyboard_swapped("ыфтвщя") == "sandoz"
    assert keyboard_swapped("200") is None
    assert latin_readings("paracetamol")[0] == "парацетамол"
    assert "смекта" in latin_readings("smecta")[:2]
    assert "цефтриаксон" in latin_readings("ceftriaxone")[:3]


def test_empty_result_suggests_queries_that_find_items(demo_catalogue, login_as, buyer):
    client = login_as(buyer)
    page = listing(client, q="нурофен 300 мг", rx="no")
    assert "Ничего не найдено. Возможно, вы искали:" in page
    block = re.search(r'data-testid="suggestions">(.*?)</p>', page, re.S).group(1)
    links = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', block)]
    texts = re.findall(r">([^<]+)</a>", block)
    assert texts[0] == "нурофен"
    assert "q=нурофен" in links[0] or "q=%D0%BD%D1%83%D1%80" in links[0]
    assert "rx=no" in links[0]  # the filters stay
    followed = client.get(links[0]).get_data(as_text=True)
    assert "Нурофен" in followed and "Возможно, вы искали" not in followed
    # A typo too far to be corrected silently is offered, not searched.
    assert "парацетамол" in listing(client, q="парацитамол 1000")
    # Nothing close at all: no suggestion, the plain message.
    nothing = listing(client, q="цитрамон")
    assert "Возможно, вы искали" not in nothing and "Ничего не найдено" in nothing


NAMES = ["АЦЦ", "Азитромицин", "Ёлка", "Елец", "Ель", "Sandoz", "5-НОК", "аспирин", "Яд", "Ёж"]


def test_names_are_sorted_in_russian_order(login_as, buyer):
    for name in NAMES:
        make_item(name)
    page = listing(login_as(buyer))
    shown = [name for _at, name in sorted((page.index(f">{n},"), n) for n in NAMES)]
    expected = ["5-НОК", "Азитромицин", "аспирин", "АЦЦ", "Ёж", "Елец", "Ёлка", "Ель", "Яд"]
    assert shown == [*expected, "Sandoz"]
    assert sorted(NAMES, key=russian_sort_key) == shown


@pytest.mark.postgres
def test_the_sqlite_order_is_the_icu_order(app):
    """The key behind SQLite's ru_icu orders names as PostgreSQL's ICU ru-RU does."""
    names = [*NAMES, "Но-шпа", "Новопассит", "ношпа", "Магне B6", "магне", "Витамин D3", "10 шт"]
    names += ["Ёжевит", "ежевика", "Ежевит", "Ацикловир", "Аспирин Кардио", "KRKA", "Krka"]
    rows = union_all(*[select(literal_column(f"'{name}'").label("name")) for name in names])
    icu = db.session.scalars(
        select(text("name")).select_from(rows.subquery()).order_by(text("name COLLATE ru_icu"))
    ).all()
    assert sorted(names, key=russian_sort_key) == icu
