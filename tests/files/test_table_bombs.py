"""Spreadsheet bombs through the real upload forms: refused with a message naming the limit,
nothing saved, and the reading stops early (memory and CPU time watched, not only the answer).

Before the safe reader, the 1 GB cell kept a worker busy 34 s and took 2 GB, the declared
16,384 × 5,000 sheet cost 7–12 s and ~500 MB, and the 19 MB CSV field answered 500.
"""

import io
import time
import tracemalloc

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.billing import ledger
from portal.catalog.models import Item
from portal.metering.models import Reading
from portal.orders.models import CartLine
from portal.organisations.models import ALL_POWERS
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.files.bombs import declared_wide_sheet, one_cell_inflating_to
from tests.metering.helpers import make_contract, make_meter

# Generous bounds: the refused bombs take ~10 ms and < 1 MB; before, seconds and gigabytes.
PEAK_MEMORY = 50 * 1024 * 1024
CPU_SECONDS = 5

ORDER_HEADER = ["Код", "Количество"]
READINGS_HEADER = [
    "Заводской номер",
    "Адрес",
    "Договор",
    "Дата предыдущего показания",
    "Предыдущее показание, м³",
    "Новое показание, м³",
    "Переход через ноль (да)",
]
CATALOG_HEADER = ["sku", "trade_name", "price"]
STATEMENT_HEADER = "payer_inn;amount;date;document_number"
NINETEEN_MB = 19 * 1024 * 1024


@pytest.fixture(scope="module")
def gigabyte_cell():
    """~1 MB files whose one cell inflates to 1 GB, with each form's header."""
    return {
        name: one_cell_inflating_to(header, 1 << 30)
        for name, header in (
            ("order", ORDER_HEADER),
            ("readings", READINGS_HEADER),
            ("catalog", CATALOG_HEADER),
        )
    }


def watched(send):
    """The response of `send()`, its peak of traced memory and the CPU time it took."""
    tracemalloc.start()
    started = time.process_time()
    try:
        response = send()
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak, seconds


def post_file(client, url, data, name, **fields):
    # The body is encoded here, in memory: the test client would spool a large one to a
    # temporary file that it never closes (a ResourceWarning, an error under this suite).
    upload = FileStorage(io.BytesIO(data), filename=name)
    fields = {"file": upload, "csrf_token": client.csrf_token(), **fields}
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def count(column):
    from portal.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count(column)))


def assert_refused(response, peak, seconds, message, *, extra_memory=0):
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 422), page[:500]
    assert message in page
    assert peak < PEAK_MEMORY + extra_memory, f"peak {peak / 1048576:.0f} MB"
    assert seconds < CPU_SECONDS, f"{seconds:.1f} s of CPU"


@pytest.fixture
def gas_customer(gas_org):
    contract = make_contract(gas_org, number="ГП-1")
    make_meter(gas_org, contract, serial="SN-1")
    from portal.extensions import db

    db.session.commit()
    return make_user(gas_org, ALL_POWERS, login="gas")


def test_gigabyte_cell_is_refused_by_every_xlsx_form(
    app, gigabyte_cell, buyer, gas_customer, admin
):
    make_item("Нурофен", sku="F1")
    message = "Распакованный файл больше 20 МБ: разделите его на части."
    client = app.test_client()
    login(client, buyer)
    refused = watched(
        lambda: post_file(client, "/cart/upload", gigabyte_cell["order"], "order.xlsx")
    )
    assert_refused(*refused, message)
    assert count(CartLine.id) == 0

    client = app.test_client()
    login(client, gas_customer)
    refused = watched(
        lambda: post_file(
            client,
            "/metering/readings/upload",
            gigabyte_cell["readings"],
            "readings.xlsx",
            reading_date="2026-11-22",
        )
    )
    assert_refused(*refused, message)
    assert count(Reading.id) == 0

    client = app.test_client()
    login(client, admin)
    refused = watched(
        lambda: post_file(
            client, "/backoffice/catalog/import", gigabyte_cell["catalog"], "catalog.xlsx"
        )
    )
    assert_refused(*refused, "Распакованный файл больше 200 МБ: разделите его на части.")
    assert count(Item.id) == 1  # the one made above


def test_declared_sheet_of_16384_columns_is_refused_without_padding(
    app, buyer, gas_customer, admin
):
    make_item("Нурофен", sku="F1")
    message = "В файле больше 100 столбцов: оставьте только столбцы таблицы."
    cases = [
        (buyer, "/cart/upload", declared_wide_sheet(ORDER_HEADER), {}, CartLine.id, 0),
        (
            gas_customer,
            "/metering/readings/upload",
            declared_wide_sheet(READINGS_HEADER),
            {"reading_date": "2026-11-22"},
            Reading.id,
            0,
        ),
        (admin, "/backoffice/catalog/import", declared_wide_sheet(CATALOG_HEADER), {}, Item.id, 1),
    ]
    for user, url, data, fields, column, before in cases:
        assert len(data) < 10_000
        client = app.test_client()
        login(client, user)
        refused = watched(lambda: post_file(client, url, data, "wide.xlsx", **fields))  # noqa: B023
        assert_refused(*refused, message)
        assert count(column) == before, url


def test_declared_dimension_alone_costs_nothing(app, buyer):
    """A sheet declaring A1:XFD1048576 but holding two rows is read as two rows."""
    make_item("Нурофен", sku="F1")
    data = declared_wide_sheet(ORDER_HEADER, rows=1048576, far_cell=False)
    client = app.test_client()
    login(client, buyer)
    response, peak, seconds = watched(lambda: post_file(client, "/cart/upload", data, "o.xlsx"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert peak < PEAK_MEMORY and seconds < CPU_SECONDS
    assert count(CartLine.id) == 1


def test_nineteen_megabyte_csv_field_is_refused_by_every_csv_form(app, buyer, manager, admin):
    make_item("Нурофен", sku="F1")
    message = "Ячейка в строке 2 длиннее 10000 символов."
    cases = [
        (buyer, "/cart/upload", "Код;Количество\nF1;", CartLine.id, 0),
        (admin, "/backoffice/catalog/import", "sku;trade_name;price\nX1;", Item.id, 1),
        (manager, "/backoffice/billing/payments", STATEMENT_HEADER + "\n7700000000;", None, 0),
    ]
    for user, url, start, column, before in cases:
        data = start.encode() + b"9" * NINETEEN_MB + b"\n"
        client = app.test_client()
        login(client, user)
        # The upload itself (the test client's body, the parsed form, the file read) is three
        # copies of 19 MB whatever the reader does; the reader adds the decoded text only.
        refused = watched(lambda: post_file(client, url, data, "big.csv"))  # noqa: B023
        assert_refused(*refused, message, extra_memory=4 * len(data))
        if column is not None:
            assert count(column) == before, url
        else:
            from portal.extensions import db

            db.session.expire_all()
            assert db.session.scalar(select(func.count(ledger.LedgerEntry.id))) == 0
