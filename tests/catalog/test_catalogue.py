import io
import re
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.catalog import listing as catalogue_rows
from portal.catalog.models import Item, ItemPrice, PriceList
from portal.catalog.pricing import quotes_for
from portal.extensions import db
from portal.organisations.models import Power
from tests.catalog.builders import give_terms, make_item, promote
from tests.factories import login, make_organisation, make_user


def listing(client, **params):
    return client.get("/catalog/", query_string=params).get_data(as_text=True)


def row_names(page: str) -> list[str]:
    """The trade names of a catalogue table's rows, in order."""
    rows = re.findall(r'data-testid="item-row">\s*<td>\s*<a href="[^"]*">([^<]*)</a>', page)
    return [name.split(",")[0] for name in rows]


def test_search_ignores_case_yo_and_small_typos(login_as, buyer):
    make_item("Ёжевит", generic_name="Экстракт ежевики")
    make_item("Нурофен", generic_name="Ибупрофен", manufacturer="Рекордати")
    make_item("Аспирин Кардио", generic_name="Ацетилсалициловая кислота")
    client = login_as(buyer)
    assert "Ёжевит" in listing(client, q="ежевит")
    assert "Нурофен" in listing(client, q="НУРОФЕН")
    assert "Нурофен" in listing(client, q="ибупрофен")
    assert "Нурофен" in listing(client, q="рекордати")
    typo = listing(client, q="нурафен")
    assert "Нурофен" in typo and "Аспирин" not in typo
    assert 'data-testid="fuzzy"' in typo
    assert "Ничего не найдено" in listing(client, q="зеленка")


def test_search_by_barcode_and_code(login_as, buyer):
    item = make_item("Кеторол", sku="K00777")
    make_item("Нурофен")
    client = login_as(buyer)
    by_barcode = listing(client, q=item.barcode)
    assert "Кеторол" in by_barcode and "Нурофен" not in by_barcode
    assert "Кеторол" in listing(client, q="k00777")


def test_filters_and_price_sorting(login_as, buyer):
    make_item("Бета", price="50.00", is_rx=True)
    make_item("Альфа", price="300.00", stock=0)
    make_item("Гамма", price="10.00")
    client = login_as(buyer)
    page = listing(client, rx="yes")
    assert "Бета" in page and "Альфа" not in page
    assert row_names(listing(client, in_stock=1)) == ["Бета", "Гамма"]
    ordered = listing(client, sort="price_desc")
    assert ordered.index("Альфа") < ordered.index("Бета") < ordered.index("Гамма")


def test_search_words_with_filters_and_every_sort(login_as, buyer):
    make_item("Нурофен Альфа", price="50.00", is_rx=True)
    make_item("Нурофен Бета", price="300.00", stock=0)
    make_item("Нурофен Гамма", price="10.00")
    make_item("Аспирин Дельта", price="20.00")
    client = login_as(buyer)

    def found(**params):
        page = listing(client, q="нурофен", **params)
        shown = [name for name in ("Альфа", "Бета", "Гамма", "Дельта") if name in page]
        return sorted(shown, key=page.index)

    assert found() == ["Альфа", "Бета", "Гамма"]
    assert found(sort="price_asc") == ["Гамма", "Альфа", "Бета"]
    assert found(sort="price_desc") == ["Бета", "Альфа", "Гамма"]
    assert found(sort="newest") == ["Гамма", "Бета", "Альфа"]
    assert found(rx="yes") == ["Альфа"]
    assert found(in_stock=1, sort="price_desc") == ["Альфа", "Гамма"]
    assert "Найдено: 3" in listing(client, q="нурофен", page=2)  # past the last page


def test_buyer_sees_own_price_with_discount_and_running_promotion(login_as, buyer, pharmacy):
    item = make_item("Нурофен", price="200.00")
    ended = make_item("Кеторол", price="100.00")
    give_terms(pharmacy, discount="10")
    promote(item, 5)
    promote(ended, 50, starts=-30, ends=-1)
    client = login_as(buyer)
    card = client.get(f"/catalog/items/{item.id}").get_data(as_text=True)
    assert "171,00" in card  # 200 less 10% = 180, less 5% promotion = 171
    assert "180,00" in card
    other = client.get(f"/catalog/items/{ended.id}").get_data(as_text=True)
    assert "90,00" in other and "50,00" not in other  # an expired promotion never applies


def test_special_price_list_of_the_organisation(app, login_as, buyer, pharmacy, other_pharmacy):
    item = make_item("Нурофен", price="200.00")
    special = PriceList(code="NET", name="Сеть")
    db.session.add(special)
    db.session.flush()
    db.session.add(ItemPrice(price_list_id=special.id, item_id=item.id, price="150.00"))
    db.session.commit()
    give_terms(pharmacy, price_list=special)
    assert "150,00" in login_as(buyer).get(f"/catalog/items/{item.id}").get_data(as_text=True)
    other_client = app.test_client()
    login(other_client, make_user(other_pharmacy))
    page = other_client.get(f"/catalog/items/{item.id}").get_data(as_text=True)
    assert "200,00" in page and "150,00" not in page


def test_user_without_view_prices_sees_no_prices(app, pharmacy):
    item = make_item("Нурофен", price="234.56")
    promote(item, 10)
    user = make_user(pharmacy, {Power.ORDER})
    client = app.test_client()
    login(client, user)
    for url in ("/catalog/", f"/catalog/items/{item.id}", "/catalog/promotions"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "Нурофен" in page, url  # the item is shown
        assert "234,56" not in page and "211,10" not in page and "₽" not in page, url
    assert client.get("/catalog/price-list.xlsx").status_code == 403


def test_card_shows_stock_by_warehouse_and_nearest_expiry(login_as, buyer):
    item = make_item("Нурофен", stock=42, expires_in_days=200)
    page = login_as(buyer).get(f"/catalog/items/{item.id}").get_data(as_text=True)
    assert "Склад Москва" in page and ">42<" in page
    assert (
        'data-testid="expiry">' in page
        and "—</dd>" not in page.split('data-testid="expiry">')[1][:12]
    )


def test_favourites_and_recently_viewed(login_as, buyer):
    item = make_item("Нурофен")
    client = login_as(buyer)
    client.get(f"/catalog/items/{item.id}")
    assert "Нурофен" in client.get("/catalog/favourites").get_data(as_text=True)  # recent
    start = client.get("/catalog/").get_data(as_text=True)
    assert "Вы недавно смотрели" in start and f'href="/catalog/items/{item.id}"' in start
    # Below a page of results the list would only push the pages away: start page only.
    results = listing(client, q="нурофен")
    assert row_names(results) == ["Нурофен"] and "Вы недавно смотрели" not in results
    client.post(f"/catalog/items/{item.id}/favourite")
    page = client.get("/catalog/favourites").get_data(as_text=True)
    assert row_names(page) == ["Нурофен"]
    client.post(f"/catalog/items/{item.id}/favourite")
    page = client.get("/catalog/favourites").get_data(as_text=True)
    assert row_names(page) == [] and "В избранном пока ничего нет" in page


def test_gas_customer_has_no_catalogue(app, gas_org):
    client = app.test_client()
    login(client, make_user(gas_org))
    assert client.get("/catalog/").status_code == 404
    assert client.get("/cart").status_code == 404


def test_price_list_xlsx_has_every_item_at_the_organisations_prices(login_as, buyer, pharmacy):
    make_item("Нурофен", price="200.00", sku="P1")
    make_item("Кеторол", price="100.00", sku="P2")
    give_terms(pharmacy, discount="10")
    with login_as(buyer).get("/catalog/price-list.xlsx") as response:
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["P1"][12] == 180 and rows["P2"][12] == 90


def _import_file(rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["sku", "trade_name", "generic_name", "manufacturer", "barcode", "vat", "rx", "price"]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_staff_import_creates_and_updates_by_sku(login_as, admin):
    make_item("Старое имя", sku="IMP1", price="10.00")
    data = _import_file(
        [
            ["IMP1", "Новое имя", "МНН", "Озон", "4600000000015", "10", "нет", "55.50"],
            ["IMP2", "Лоратадин", "Лоратадин", "Озон", "", "general", "да", "120"],
        ]
    )
    client = login_as(admin)
    response = client.post(
        "/backoffice/catalog/import",
        data={"file": (io.BytesIO(data), "catalog.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    updated = db.session.scalar(select(Item).where(Item.sku == "IMP1"))
    assert updated.trade_name == "Новое имя" and "новое имя" in updated.search_text
    created = db.session.scalar(select(Item).where(Item.sku == "IMP2"))
    assert created.is_rx and created.vat_category == "general"


def test_import_with_a_bad_row_imports_nothing_and_names_the_line(login_as, admin):
    data = _import_file(
        [
            ["OK1", "Лоратадин", "", "Озон", "", "10", "нет", "10"],
            ["BAD", "Кеторол", "", "Озон", "4600000000018", "10", "нет", "10"],
            ["BAD2", "Кеторол", "", "Озон", "", "18", "нет", "-5"],
        ]
    )
    page = (
        login_as(admin)
        .post(
            "/backoffice/catalog/import",
            data={"file": (io.BytesIO(data), "catalog.xlsx")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert "4600000000018" in page and "EAN-13" in page
    assert "<td>3</td>" in page and "<td>4</td>" in page
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_import_refuses_a_file_that_is_not_a_table(login_as, admin):
    page = (
        login_as(admin)
        .post(
            "/backoffice/catalog/import",
            data={"file": (io.BytesIO(b"%PDF-1.4 nonsense"), "catalog.pdf")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert "XLSX" in page or "CSV" in page
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_customer_cannot_import(login_as, buyer):
    assert login_as(buyer).get("/backoffice/catalog/import").status_code == 403


def test_import_catalog_command(app, tmp_path, database_url):
    path = tmp_path / "items.csv"
    path.write_text("sku;trade_name;price\nCLI1;Арбидол;300\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-catalog", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Item.trade_name).where(Item.sku == "CLI1")) == "Арбидол"
    bad = tmp_path / "bad.csv"
    bad.write_text("sku;trade_name;price\nCLI2;;300\n", encoding="utf-8")
    result = runner.invoke(args=["import-catalog", str(bad)])
    assert result.exit_code != 0 and "line 2: Не указано торговое наименование" in result.output
    assert db.session.scalar(select(Item.id).where(Item.sku == "CLI2")) is None


def test_demo_catalogue_is_realistic_and_idempotent(app):
    from stdnum import ean

    from portal.demo import catalog as demo

    make_organisation("pharmacy", inn="7728168971")
    demo.seed()
    db.session.commit()
    count = db.session.scalar(select(func.count(Item.id)))
    demo.seed()
    assert db.session.scalar(select(func.count(Item.id))) == count >= 200
    barcodes = db.session.scalars(select(Item.barcode)).all()
    assert all(ean.is_valid(b) for b in barcodes)
    assert db.session.scalar(select(func.count(Item.id)).where(Item.is_cold_chain.is_(True)))
    assert {"reduced", "general"} <= set(db.session.scalars(select(Item.vat_category).distinct()))


def test_listing_rows_carry_the_prices_the_cart_charges(app, pharmacy, buyer):
    """A search page reads its rows' prices in one query; they must be the cart's prices for
    every case: own price list, base fallback, discount, running/ended promotion, no price."""
    special = PriceList(code="NET", name="Сеть")
    db.session.add(special)
    db.session.flush()
    own = make_item("Нурофен", price="200.00")
    db.session.add(ItemPrice(price_list_id=special.id, item_id=own.id, price="150.00"))
    base_only = make_item("Кеторол", price="99.99")
    promoted = make_item("Но-шпа", price="120.00")
    promote(promoted, 5)
    promote(promoted, 15)  # the best running promotion counts
    ended = make_item("Аспирин", price="80.00")
    promote(ended, 50, starts=-30, ends=-1)
    unpriced = make_item("Бинт", price=None)
    db.session.commit()
    give_terms(pharmacy, discount="7.5", price_list=special)
    ids = [own.id, base_only.id, promoted.id, ended.id, unpriced.id]
    with app.test_request_context():
        rows = catalogue_rows.listing(
            ids,
            organisation_id=pharmacy.id,
            user_id=buyer.id,
            warehouse_id=None,
            with_prices=True,
        )
        quotes = quotes_for(pharmacy.id, ids)
        without = catalogue_rows.listing(
            ids, organisation_id=pharmacy.id, user_id=buyer.id, warehouse_id=None, with_prices=False
        )
    assert [row.id for row in rows] == ids  # in the order asked
    for row in rows:
        quote = quotes.get(row.id)
        assert (row.price, row.list_price) == (
            (quote.price, quote.list_price) if quote else (None, None)
        )
    assert rows[0].price == Decimal("138.75")  # 150 (own list) less 7.5 %
    assert rows[2].promotion_percent == Decimal("15") and rows[3].promotion_percent is None
    assert rows[4].price is None and unpriced.id not in quotes
    assert all(row.price is None and row.list_price is None for row in without)


def test_import_refuses_odd_numbers_row_by_row(login_as, admin):
    """«²» as a minimum once answered 500, «٣» was read as 3, «1e9» as a billion roubles."""
    data = (
        "sku;trade_name;min_quantity;multiple;price\n"
        "ODD1;Нурофен;²;1;100\n"
        "ODD2;Кеторол;٣;1;100\n"
        "ODD3;Арбидол;1;1;1e9\n"
        f"ODD4;Ингавирин;1;{'9' * 5000};100\n"
    ).encode()
    response = login_as(admin).post(
        "/backoffice/catalog/import",
        data={"file": (io.BytesIO(data), "catalog.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # a refused form: nothing of it is kept
    for line in (2, 3, 4, 5):
        assert f"<td>{line}</td>" in page
    assert db.session.scalar(select(func.count(Item.id))) == 0
