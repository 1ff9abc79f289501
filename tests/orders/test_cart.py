import csv
import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import CartLine
from portal.organisations.models import Power
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.html import shown, table_rows


def cart_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(CartLine.id)))


def add(client, item, quantity):
    return client.post(
        "/cart/add",
        data={"item_id": item.id, "quantity": quantity, "next": "/cart"},
        follow_redirects=True,
    ).get_data(as_text=True)


def test_cart_totals_with_vat_by_rate(login_as, buyer, tax_day):
    tax_day(date(2026, 3, 2))
    medicine = make_item("Нурофен", price="110.00", vat="reduced")
    goods = make_item("Пластырь", price="120.00", vat="general")
    client = login_as(buyer)
    add(client, medicine, 2)
    page = add(client, goods, 1)
    assert "Пластырь" in page
    assert "340,00" in page  # 220 + 120
    assert "20,00" in page  # VAT 10% inside 220
    assert "21,64" in page  # VAT 22% inside 120 (the general rate of 2026)
    assert "в том числе НДС 22%" in page and "в том числе НДС 10%" in page


def test_quantity_rules_each_have_a_message_and_change_nothing(login_as, buyer):
    carton = make_item("Бинт", min_quantity=10, order_multiple=5, stock=30)
    client = login_as(buyer)
    assert "Минимальный заказ — 10 уп." in add(client, carton, 5)
    assert "кратен 5 уп." in add(client, carton, 12)
    assert "В наличии только 30 уп." in add(client, carton, 35)
    assert "целое число упаковок" in add(client, carton, "abc")
    assert "целое число упаковок" in add(client, carton, -5)
    assert cart_count() == 0
    add(client, carton, 10)
    assert cart_count() == 1


def test_change_and_remove_lines(login_as, buyer):
    item = make_item("Нурофен", stock=50)
    client = login_as(buyer)
    add(client, item, 2)
    line = db.session.scalar(select(CartLine))
    page = client.post(
        "/cart/update", data={f"quantity-{line.id}": "60"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "В наличии только 50 уп." in page
    db.session.expire_all()
    assert db.session.get(CartLine, line.id).quantity == 2
    client.post("/cart/update", data={f"quantity-{line.id}": "7"})
    db.session.expire_all()
    assert db.session.get(CartLine, line.id).quantity == 7
    client.post("/cart/update", data={"remove": line.id})
    assert cart_count() == 0


def test_another_users_cart_line_cannot_be_touched(app, login_as, buyer, pharmacy):
    item = make_item("Нурофен")
    colleague = make_user(pharmacy)
    other = app.test_client()
    login(other, colleague)
    add(other, item, 3)
    line = db.session.scalar(select(CartLine))
    client = login_as(buyer)
    page = client.post("/cart/update", data={"remove": line.id}, follow_redirects=True)
    assert "Этой строки нет в вашей корзине" in page.get_data(as_text=True)
    assert cart_count() == 1
    assert not any("Нурофен" in " ".join(row) for row in table_rows(shown(client.get("/cart"))))
    assert "Нурофен" in shown(other.get("/cart"))  # the colleague's cart keeps the line


def test_cart_without_prices_for_a_user_without_view_prices(app, pharmacy):
    item = make_item("Нурофен", price="123.45")
    user = make_user(pharmacy, {Power.ORDER})
    client = app.test_client()
    login(client, user)
    page = add(client, item, 1)
    assert "Нурофен" in page and "123,45" not in page and "₽" not in page


def test_quick_order_adds_valid_lines_and_reports_bad_ones(login_as, buyer):
    nurofen = make_item("Нурофен", sku="Q1")
    ketorol = make_item("Кеторол", sku="Q2")
    client = login_as(buyer)
    text = f"Q1 3\n\n{ketorol.barcode}\t2\nNOPE 1\nQ1 0\nQ2 два\n"
    page = client.post("/cart/quick", data={"lines": text}).get_data(as_text=True)
    assert "<td>4</td><td>NOPE</td><td>Товар с таким кодом или штрихкодом не найден.</td>" in page
    assert "<td>5</td>" in page and "<td>6</td>" in page
    assert cart_count() == 0  # nothing added while lines are rejected
    client.post("/cart/quick", data={"lines": text, "skip_invalid": "y"})
    quantities = dict(db.session.execute(select(CartLine.item_id, CartLine.quantity)).all())
    assert quantities == {nurofen.id: 3, ketorol.id: 2}


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, data, name, **fields):
    return client.post(
        "/cart/upload",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def test_xlsx_file_with_recognised_headers(login_as, buyer):
    item = make_item("Нурофен", sku="F1")
    client = login_as(buyer)
    response = upload(
        client, xlsx_bytes([["Код", "Наименование", "Количество"], ["F1", "x", 4]]), "z.xlsx"
    )
    assert response.status_code == 302
    assert db.session.scalar(select(CartLine.quantity).where(CartLine.item_id == item.id)) == 4


def test_csv_file_with_chosen_columns_and_line_numbers(login_as, buyer):
    make_item("Нурофен", sku="F1")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows(
        [["Товар", "Артикул ERP", "Шт"], ["Нурофен", "F1", "2"], ["Прочее", "ZZZ", "1"]]
    )
    page = upload(
        login_as(buyer),
        buffer.getvalue().encode("cp1251"),
        "order.csv",
        code_column="B",
        quantity_column="3",
    ).get_data(as_text=True)
    assert "<td>3</td><td>ZZZ</td>" in page
    assert cart_count() == 0


def test_thousand_line_file_goes_into_the_cart_in_one_go(login_as, buyer):
    items = [make_item(f"Товар {n}", sku=f"M{n:04d}", stock=10_000) for n in range(50)]
    rows = [["Код", "Количество"]] + [[items[n % 50].sku, 1] for n in range(1000)]
    response = upload(login_as(buyer), xlsx_bytes(rows), "big.xlsx")
    assert response.status_code == 302
    total = db.session.scalar(select(func.sum(CartLine.quantity)))
    assert cart_count() == 50 and total == 1000


def test_bad_files_are_refused_and_the_cart_is_unchanged(app, login_as, buyer):
    item = make_item("Нурофен", sku="F1")
    client = login_as(buyer)
    add(client, item, 1)
    cases = [
        (b"%PDF-1.4", "order.pdf", "Загрузите файл Excel (.xlsx) или CSV (.csv)."),
        (b"PK\x03\x04garbage", "order.xlsx", "Файл повреждён или не является книгой Excel."),
        (b"not a zip", "order.xlsx", "Файл повреждён или не является книгой Excel."),
        (b"a;b\n1;2\n", "order.csv", "Колонки не распознаны"),
    ]
    for data, name, message in cases:
        page = upload(client, data, name).get_data(as_text=True)
        assert message in page, name
    app.config["ORDER_FILE_MAX_BYTES"] = 10_486  # 0.01 MB
    try:
        page = upload(client, b"x" * 20_000, "order.csv").get_data(as_text=True)
        assert "Файл больше 0.01 МБ." in page
    finally:
        app.config.pop("ORDER_FILE_MAX_BYTES")
    assert db.session.scalar(select(CartLine.quantity)) == 1
