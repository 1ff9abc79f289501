"""Every form and query a user reaches, through the test client: any text or file answers a
page, a message or a 4xx, never a 500 (and a refusal changes nothing)."""

import io

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from portal.billing import ledger
from portal.catalog.models import Item
from portal.extensions import db
from portal.metering.models import Reading
from portal.organisations.models import ALL_POWERS
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.fuzz.conftest import examples
from tests.metering.helpers import make_contract, make_meter

# Text as a browser can send it: any character but lone surrogates (not encodable in a form).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
# NUL bytes included: the request guard answers 400 before PostgreSQL could refuse them.
QUERY_TEXT = TEXT
CELL = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False, allow_infinity=False))
TABLE = st.lists(st.lists(CELL, max_size=8), max_size=8)


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        # what a spreadsheet program can save: no control characters, no formulas
        workbook.active.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v).lstrip("=") if isinstance(v, str) else v for v in row]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_file(draw_rows, header, as_xlsx):
    rows = [header, *draw_rows]
    if as_xlsx:
        return xlsx(rows), "table.xlsx"
    text = "\n".join(";".join(str(v) for v in row) for row in rows)
    return text.encode("utf-8", "surrogatepass"), "table.csv"


def post_file(client, url, data, name, **fields):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def count(column):
    db.session.expire_all()
    return db.session.scalar(select(func.count(column)))


def assert_answered(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:1000]


@examples(0.4)
@given(query=QUERY_TEXT, page=st.one_of(st.integers(-5, 10**25).map(str), QUERY_TEXT))
def test_catalogue_search_answers_any_text(login_as, buyer, query, page):
    client = login_as(buyer) if not hasattr(buyer, "_client") else buyer._client
    buyer._client = client
    assert_answered(client.get("/catalog/", query_string={"q": query, "page": page}))


@examples(0.25)
@given(query=QUERY_TEXT, status=QUERY_TEXT)
def test_staff_order_filter_answers_any_text(app, manager, query, status):
    if not hasattr(manager, "_client"):
        manager._client = app.test_client()
        login(manager._client, manager)
    response = manager._client.get(
        "/backoffice/orders", query_string={"q": query, "status": status}
    )
    assert_answered(response)


@examples(0.4)
@given(lines=TEXT, skip=st.booleans())
def test_quick_order_answers_any_text(login_as, buyer, lines, skip):
    if not hasattr(buyer, "_client"):
        make_item("Нурофен", sku="F1", stock=10**6)
        buyer._client = login_as(buyer)
    data = {"lines": lines}
    if skip:
        data["skip_invalid"] = "y"
    assert_answered(buyer._client.post("/cart/quick", data=data))


@examples(0.25)
@given(rows=TABLE, as_xlsx=st.booleans(), code=TEXT, quantity=TEXT)
def test_order_file_answers_any_table(login_as, buyer, rows, as_xlsx, code, quantity):
    if not hasattr(buyer, "_client"):
        make_item("Нурофен", sku="F1", stock=10**6)
        buyer._client = login_as(buyer)
    data, name = table_file(rows, ["Код", "Количество"], as_xlsx)
    response = post_file(
        buyer._client,
        "/cart/upload",
        data,
        name,
        code_column=code[:5],
        quantity_column=quantity[:5],
    )
    assert_answered(response)


@examples(0.25)
@given(rows=TABLE)
def test_readings_upload_answers_any_table(app, gas_org, rows):
    if not hasattr(gas_org, "_client"):
        contract = make_contract(gas_org, number="ГП-1")
        make_meter(gas_org, contract, serial="SN-1")
        db.session.commit()
        gas_org._client = app.test_client()
        login(gas_org._client, make_user(gas_org, ALL_POWERS, login="gas"))
    header = [
        "Заводской номер",
        "Адрес",
        "Договор",
        "Дата предыдущего показания",
        "Предыдущее показание, м³",
        "Новое показание, м³",
        "Переход через ноль (да)",
    ]
    data = xlsx([header, *[["SN-1", *row] if row else row for row in rows]])
    response = post_file(
        gas_org._client, "/metering/readings/upload", data, "r.xlsx", reading_date="2026-11-22"
    )
    assert_answered(response)
    if response.status_code != 302:
        assert count(Reading.id) == 0


@examples(0.25)
@given(rows=TABLE, as_xlsx=st.booleans())
def test_catalogue_import_answers_any_table(app, admin, rows, as_xlsx):
    if not hasattr(admin, "_client"):
        admin._client = app.test_client()
        login(admin._client, admin)
    header = ["sku", "trade_name", "min_quantity", "multiple", "price", "barcode", "vat"]
    data, name = table_file(rows, header, as_xlsx)
    response = post_file(admin._client, "/backoffice/catalog/import", data, name, dry_run="y")
    assert_answered(response)
    assert count(Item.id) == 0


@examples(0.25)
@given(rows=st.lists(st.lists(TEXT, max_size=5), max_size=6))
def test_bank_statement_answers_any_csv(app, manager, gas_org, rows):
    if not hasattr(manager, "_client"):
        manager._client = app.test_client()
        login(manager._client, manager)
    rows = [[gas_org.inn, *row[1:]] if row else row for row in rows]
    data, name = table_file(rows, ["payer_inn", "amount", "date", "document_number"], False)
    response = post_file(manager._client, "/backoffice/billing/payments", data, name)
    assert_answered(response)
    # Imported: sent to the import job's page (302); anything else imported nothing.
    if response.status_code != 302:
        assert ledger.balance(gas_org.id) == 0
    db.session.rollback()


@examples(0.25)
@given(amount=TEXT, entry_date=TEXT, number=QUERY_TEXT)
def test_staff_payment_and_adjustment_forms_answer_any_text(
    app, manager, gas_org, amount, entry_date, number
):
    if not hasattr(manager, "_client"):
        manager._client = app.test_client()
        login(manager._client, manager)
    base = f"/metering/staff/organisations/{gas_org.id}"
    fields = {"amount": amount, "entry_date": entry_date, "contract_id": "0"}
    for url, extra in (
        ("payments", {"document_number": number}),
        ("adjustments", {"reason": number}),
    ):
        assert_answered(manager._client.post(f"{base}/{url}", data={**fields, **extra}))
