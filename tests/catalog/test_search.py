"""Catalogue search beyond the basics: pages and totals, typo correction against the word
list, and the cache of search answers (which must never carry one buyer's prices to another)."""

import html
import io
import re
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import unquote

import pytest
from sqlalchemy import delete, event, select, text, update

from portal.catalog.models import Item, ItemPrice, SearchWord
from portal.catalog.search import PAGE_SIZE
from portal.catalog.words import rebuild_search_words
from portal.extensions import cache, db
from portal.inventory.models import Stock
from portal.orders.models import CartLine
from tests.catalog.builders import give_terms, make_item, promote, warehouse
from tests.catalog.test_catalogue import _import_file, listing
from tests.conftest import CSRF_RE
from tests.factories import login, make_organisation, make_user


def found_count(page: str) -> int:
    return int(re.search(r"Найдено: (\d+)", page).group(1))


def rows(page: str) -> int:
    return page.count('data-testid="item-row"')


def test_pages_and_total(login_as, buyer):
    for n in range(PAGE_SIZE + 6):
        make_item(f"Валериана {n:02d}")
    make_item("Пустырник")
    client = login_as(buyer)
    first = listing(client, q="валериана")
    assert found_count(first) == PAGE_SIZE + 6 and rows(first) == PAGE_SIZE
    assert "Валериана 00" in first and "Пустырник" not in first
    second = listing(client, q="валериана", page=2)
    assert found_count(second) == PAGE_SIZE + 6 and rows(second) == 6
    assert "Валериана 29" in second
    few = listing(client, q="пустырник")
    assert found_count(few) == 1 and rows(few) == 1
    beyond = listing(client, q="валериана", page=9)
    assert rows(beyond) == 0 and 'data-testid="fuzzy"' not in beyond
    assert found_count(beyond) == PAGE_SIZE + 6  # the total is still told past the last page


def test_page_links_keep_the_search_and_filters(login_as, buyer):
    for n in range(PAGE_SIZE + 2):
        make_item(f"Валериана {n:02d}")
    make_item("Валериана Rx", is_rx=True)
    client = login_as(buyer)
    first = listing(client, q="валериана", rx="no", sort="newest")
    links = re.findall(r'class="page-link" href="([^"]+)"', first)
    assert len(links) == 2
    second = client.get(html.unescape(links[1])).get_data(as_text=True)
    assert rows(second) == 2 and found_count(second) == PAGE_SIZE + 2
    assert "Валериана 00" in second and "Валериана 01" in second  # the oldest, not Rx


def test_typos_in_several_words_are_corrected_word_by_word(login_as, buyer):
    make_item("Нурофен Форте", generic_name="Ибупрофен")
    make_item("Нурофен Экспресс", generic_name="Ибупрофен")
    make_item("Фортелизин")
    client = login_as(buyer)
    page = listing(client, q="нурафен фортэ")
    assert "Нурофен Форте" in page and "Экспресс" not in page
    assert 'data-testid="fuzzy"' in page
    # Short words (doses, units) are kept as typed while the name is corrected.
    make_item("Нурофен").strength = "200 мг"
    make_item("Нурофен").strength = "400 мг"
    for item in db.session.scalars(select(Item).where(Item.strength.is_not(None))):
        item.refresh_search_text()
    db.session.commit()
    dose = listing(client, q="нурафен 400 мг")
    assert found_count(dose) == 1 and "400 мг" in dose and 'data-testid="fuzzy"' in dose
    # A word with nothing close in the catalogue is not "corrected" into something else.
    assert "Ничего не найдено" in listing(client, q="ксилометазолин")


def test_word_list_follows_items(app, login_as, buyer):
    item = make_item("Кеторол")
    item.trade_name = "Кетанов"
    item.refresh_search_text()
    db.session.commit()
    assert db.session.get(SearchWord, "кетанов") is not None
    assert "Кетанов" in listing(login_as(buyer), q="кетонов")

    item.is_active = False
    db.session.commit()
    rebuild_search_words()
    db.session.commit()
    assert db.session.get(SearchWord, "кетанов") is None
    make_item("Кетонал")
    db.session.execute(delete(SearchWord))  # as if items had been written with SQL
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["rebuild-search-words"]).output
    assert "Search words:" in output and db.session.get(SearchWord, "кетонал") is not None
    assert db.session.get(SearchWord, "кеторол") is None


@pytest.fixture
def cached(app, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOG_CACHE_SECONDS", 60)
    with app.app_context():
        cache.clear()
    yield
    with app.app_context():
        cache.clear()


def test_cached_answers_keep_each_buyers_own_prices(cached, app, login_as, buyer):
    make_item("Нурофен", price="200.00")
    other = make_organisation(name="Аптека Другая", inn="7707083893")
    give_terms(other, discount="50")
    other_buyer = make_user(other, login="other.buyer")
    first = listing(login_as(buyer), q="нурофен")
    other_client = app.test_client()
    login(other_client, other_buyer)
    second = listing(other_client, q="нурофен")
    assert "Нурофен" in first and "Нурофен" in second
    assert "200,00" in first and "100,00" not in first
    assert "100,00" in second and "200,00" not in second


def table_forms(page: str) -> list[dict]:
    """The add-to-cart forms of a catalogue table: their hidden fields by name."""
    forms = re.findall(r'<form method="post" action="/cart/add".*?</form>', page, re.S)
    return [
        {
            name: html.unescape(value)
            for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)
        }
        for form in forms
    ]


def test_a_kept_table_carries_each_sessions_token_and_page(cached, app, buyer):
    """The same rows render once; each session still gets forms with its own form token and
    its own page to come back to, and adding to the cart works from every one of them."""
    item = make_item("Нурофен")
    tokens = set()
    for query in ("нурофен", "НУРОФЕН"):
        client = app.test_client()
        login(client, buyer)
        page = listing(client, q=query)
        (form,) = table_forms(page)
        own = CSRF_RE.search(page.split('class="table-responsive"')[0]).group(1)
        assert form["csrf_token"] == own and unquote(form["next"]) == f"/catalog/?q={query}"
        assert form["item_id"] == str(item.id)
        tokens.add(form["csrf_token"])
        response = client.post("/cart/add", data={**form, "quantity": "1"}, csrf=False)
        assert response.status_code == 302 and response.location.endswith(form["next"])
    assert len(tokens) == 2
    assert db.session.scalar(select(CartLine.quantity).where(CartLine.item_id == item.id)) == 2


def test_a_kept_table_never_shows_old_stock_prices_or_stars(cached, app, login_as, buyer):
    """Rows are read on every request; a change in any of them renders the table anew."""
    item = make_item("Нурофен", price="200.00", stock=40)
    client = login_as(buyer)
    page = listing(client, q="нурофен")
    assert ">40<" in page and "200,00" in page and "&#9733;" not in page
    db.session.execute(update(Stock).where(Stock.item_id == item.id).values(quantity=39))
    db.session.execute(
        update(ItemPrice).where(ItemPrice.item_id == item.id).values(price=Decimal("210.00"))
    )
    db.session.commit()
    client.post(f"/catalog/items/{item.id}/favourite")
    page = listing(client, q="нурофен")
    assert ">39<" in page and "210,00" in page and "200,00" not in page and "&#9733;" in page


def test_each_organisation_sees_stock_of_its_own_warehouse_when_cached(cached, app, buyer):
    kazan = warehouse("Казань", code="KZN", central=False)
    item = make_item("Нурофен", stock=40)
    db.session.add(Stock(item_id=item.id, warehouse_id=kazan.id, quantity=7))
    other = make_organisation(name="Аптека Казань", inn="7707083893")
    other.region = other.addresses[0].region = "Казань"
    other_buyer = make_user(other, login="kazan.buyer")
    db.session.commit()
    for user, name, stock in ((buyer, "Склад Москва", 40), (other_buyer, "Склад Казань", 7)):
        client = app.test_client()
        login(client, user)
        for _ in range(2):  # the second page comes from the cache
            page = listing(client, q="нурофен")
            assert f"остатки склада «{name}»" in page and f">{stock}<" in page, user.login


def test_import_refreshes_cached_answers(cached, app, login_as, buyer, admin):
    make_item("Лоратадин", sku="L1")
    client = login_as(buyer)
    assert found_count(listing(client, q="лоратадин")) == 1
    data = _import_file([["L2", "Лоратадин Экспресс", "Лоратадин", "Озон", "", "10", "нет", "9"]])
    staff = app.test_client()
    login(staff, admin)
    response = staff.post(
        "/backoffice/catalog/import",
        data={"file": (io.BytesIO(data), "catalog.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Item.id).where(Item.sku == "L2")) is not None
    page = listing(client, q="лоратадин")
    assert found_count(page) == 2 and "Лоратадин Экспресс" in page


def test_form_and_strength_are_searchable(login_as, buyer):
    for strength in ("200 мг", "400 мг"):
        item = make_item("Нурофен")
        item.dosage_form, item.strength = "таблетки", strength
        item.refresh_search_text()
    db.session.commit()
    page = listing(login_as(buyer), q="нурофен таблетки 400 мг")
    assert found_count(page) == 1 and "400 мг" in page and "200 мг" not in page


@contextmanager
def counted_statements():
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_pages_read_a_fixed_number_of_statements(login_as, buyer):
    """No query per row: the promotions page and a search page cost the same with 25 or 50
    promotions / results (both more than a page of search results, which adds a count)."""
    client = login_as(buyer)

    def cost(path):
        with counted_statements() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    for n in range(25):
        promote(make_item(f"Ромашка {n}"), 10)
    cost("/catalog/promotions"), cost("/catalog/?q=ромашка")  # what the first request caches
    few = cost("/catalog/promotions"), cost("/catalog/?q=ромашка")
    for n in range(25, 50):
        promote(make_item(f"Ромашка {n}"), 10)
    assert (cost("/catalog/promotions"), cost("/catalog/?q=ромашка")) == few


@pytest.mark.postgres
def test_postgresql_prices_random_reads_as_on_ssd(app):
    """With the server's default random_page_cost (4) the planner reads every item instead of
    the trigram index for a word in ~3 % of the catalogue (55 ms instead of 7 ms)."""
    assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"


@pytest.mark.postgres
def test_postgresql_search_index_is_written_directly(app):
    """With GIN's default fastupdate, new items wait in a pending list that every search reads
    in full: after a 50,000-item load that was 475 pages and 4–5 ms per search."""
    options = db.session.scalar(
        text("SELECT reloptions FROM pg_class WHERE relname = 'ix_catalog_items_search_trgm'")
    )
    assert "fastupdate=off" in options
