"""Ledger texts are stored as a code with parameters and worded in the reader's language;
migration 0036 reads the Russian sentences stored before it back into their codes."""

import importlib.util
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.billing import payments
from portal.billing.models import LedgerEntry
from portal.billing.texts import TEXTS, LedgerText, text_in
from portal.extensions import db
from tests.factories import login
from tests.test_migrations import fresh_database_url


def _migration():
    path = Path(__file__).parents[2] / "migrations/versions/0036_ledger_text_codes.py"
    spec = importlib.util.spec_from_file_location("ledger_text_codes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = {
    "gas_charge": {"month": "10.2026", "number": "ГП-52/23", "volume": "12 345,6"},
    "gas_recalculation": {"month": "10.2026", "number": "ГП-52/23"},
    "payment": {"number": "ПП-17"},
    "shipment": {"document": "1/12", "date": "05.01.2026", "order": "2601-000042"},
    "shipment_correction": {
        "document": "К-3",
        "date": "10.02.2026",
        "original": "1/12",
        "original_date": "05.01.2026",
        "order": "2601-000042",
    },
    "gas_vat_added": {
        "month": "01.2026",
        "number": "ГП-52/23",
        "date": "31.01.2026",
        "new_rate": "22",
        "old_rate": "20",
        "amount": "123.45",
    },
    "gas_vat_reduced": {
        "month": "01.2026",
        "number": "ГП-52/23",
        "date": "31.01.2026",
        "new_rate": "20",
        "old_rate": "22",
        "amount": "123.45",
    },
    "shipment_vat_added": {
        "number": "2601-000042",
        "date": "05.01.2026",
        "new_rates": "10 %, 22 %",
        "old_rates": "10 %, 20 %",
        "amount": "7.10",
    },
    "shipment_vat_reduced": {
        "number": "2601-000042",
        "date": "05.01.2026",
        "new_rates": "10 %",
        "old_rates": "20 %",
        "amount": "7.10",
    },
}


def test_every_code_is_worded_in_both_languages_and_read_back_by_the_migration(app):
    parse = _migration().parse_stored_text
    assert set(SAMPLES) == set(TEXTS)
    with app.test_request_context():
        for code, params in SAMPLES.items():
            text = LedgerText(code, **params)
            russian = text.russian()
            with force_locale("en"):
                english = text.render()
            assert russian != english, code
            assert "%(" not in russian and "%(" not in english, code
            # What the portal stores is what the migration would have converted.
            assert parse(russian) == (code, params), code


def test_the_migration_reads_the_sentences_stored_before_it(app):
    parse = _migration().parse_stored_text
    assert parse("Оплата, платёжное поручение № 881") == ("payment", {"number": "881"})
    assert parse("Отгрузка (УПД) № 12 от 05.01.2026, заказ № 2601-000042") == (
        "shipment",
        {"document": "12", "date": "05.01.2026", "order": "2601-000042"},
    )
    assert parse(
        "Корректировка НДС за газ за 01.2026, договор ГП-1: на 31.01.2026 действует ставка "
        "НДС 22 %, было начислено по ставке 20 %. Уменьшено НДС 5.00 руб."
    ) == (
        "gas_vat_reduced",
        {
            "month": "01.2026",
            "number": "ГП-1",
            "date": "31.01.2026",
            "new_rate": "22",
            "old_rate": "20",
            "amount": "5.00",
        },
    )
    # A reason typed by staff, or a demo row, stays as it was stored.
    assert parse("Списание по письму от 3 марта") == (None, None)
    assert parse("Отгрузка по УПД № 2601-000042 от 05.01.2026") == (None, None)


def test_a_payment_is_shown_in_the_readers_language(app, manager, gas_org, today):
    day = today(date(2026, 3, 10))
    gas_org.manager_id = manager.id
    payments.enter_payment(gas_org, "150.00", day, "ПП-77", manager)
    payments.enter_adjustment(gas_org, "10.00", day, "Списание по письму", manager)
    db.session.commit()
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.document_number == "ПП-77"))
    assert (entry.text_code, entry.text_params) == ("payment", {"number": "ПП-77"})
    assert entry.description == "Оплата, платёжное поручение № ПП-77"
    typed = db.session.scalar(select(LedgerEntry).where(LedgerEntry.id != entry.id))
    assert (typed.text_code, typed.description) == (None, "Списание по письму")
    client = app.test_client()
    login(client, manager)
    page = client.get(f"/backoffice/metering/organisations/{gas_org.id}").get_data(as_text=True)
    assert "Оплата, платёжное поручение № ПП-77" in page
    assert "Списание по письму" in page
    manager.language = "en"
    db.session.commit()
    page = client.get(f"/backoffice/metering/organisations/{gas_org.id}").get_data(as_text=True)
    assert "Payment, document ПП-77" in page
    assert "Оплата, платёжное поручение № ПП-77" not in page
    assert "Списание по письму" in page  # shown as typed
    # The reconciliation act names documents in Russian whatever the reader's language.
    with app.test_request_context(), force_locale("en"):
        assert text_in(entry, "ru") == "Оплата, платёжное поручение № ПП-77"
        assert entry.text == "Payment, document ПП-77"


@pytest.mark.parametrize("params", [{}, {"number": "1", "unknown": "x"}])
def test_a_row_whose_parameters_do_not_fit_is_shown_as_stored(app, params):
    entry = LedgerEntry(description="как записано", text_code="shipment", text_params=params)
    with app.test_request_context():
        assert entry.text == "как записано"
    entry.text_code = "no_such_code"
    with app.test_request_context():
        assert entry.text == "как записано"


def _filled(table, **values):
    """A row for `table` with every required column filled (the schema of an old revision)."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if column.server_default is not None:
            continue
        python_type = column.type.python_type
        if python_type is str:
            row[column.name] = "7700000001"[: column.type.length or 10]
        elif python_type is bool:
            row[column.name] = True
        elif python_type is datetime:
            row[column.name] = datetime(2026, 1, 1, tzinfo=UTC)
        elif python_type is date:
            row[column.name] = date(2026, 1, 1)
        else:
            row[column.name] = 0
    return row


def test_migration_0036_converts_the_stored_rows(app, tmp_path):
    url, drop = fresh_database_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    stored = {
        1: "Оплата, платёжное поручение № 881",
        2: "Отгрузка (УПД) № 12 от 05.01.2026, заказ № 2601-000042",
        3: "Списание по письму от 3 марта",
    }
    try:
        migrated = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
        with migrated.app_context():
            upgrade(revision="0035_job_queue")
            metadata = sa.MetaData()
            metadata.reflect(db.engine, only=["organisations", "ledger_entries"], resolve_fks=False)
            organisations, entries = (
                metadata.tables["organisations"],
                metadata.tables["ledger_entries"],
            )
            with db.engine.begin() as connection:
                connection.execute(organisations.insert().values(_filled(organisations, id=1)))
                for entry_id, text in stored.items():
                    connection.execute(
                        entries.insert().values(
                            _filled(entries, id=entry_id, organisation_id=1, description=text)
                        )
                    )
            upgrade(revision="0036_ledger_text_codes")
            with db.engine.connect() as connection:
                rows = connection.execute(
                    sa.text(
                        "SELECT id, description, text_code, text_params FROM ledger_entries"
                        " ORDER BY id"
                    )
                ).all()
            db.engine.dispose()
        params = [row[3] if isinstance(row[3], dict | None) else json.loads(row[3]) for row in rows]
        assert [(row[0], row[1], row[2]) for row in rows] == [
            (1, stored[1], "payment"),
            (2, stored[2], "shipment"),
            (3, stored[3], None),
        ]
        assert params == [
            {"number": "881"},
            {"document": "12", "date": "05.01.2026", "order": "2601-000042"},
            None,
        ]
    finally:
        if drop:
            drop()


def test_a_job_without_a_request_reads_the_text_in_the_default_language(app):
    entry = LedgerEntry(description="x", text_code="payment", text_params={"number": "5"})
    with app.app_context():
        assert entry.text == "Оплата, платёжное поручение № 5"
        with force_locale("en"):
            assert entry.text == "Payment, document 5"
