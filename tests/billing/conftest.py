from datetime import date

import pytest
from huey import SqliteHuey

from portal.billing.ledger import post_charge, post_payment
from portal.billing.queue import build_queue
from portal.extensions import db


@pytest.fixture
def queue(app, tmp_path, monkeypatch):
    """A real SQLite-backed Huey queue of its own; `queue.run_pending()` plays the worker."""
    huey = SqliteHuey("test-statements", filename=str(tmp_path / "huey.db"))
    statement_queue = build_queue(app, huey)
    monkeypatch.setitem(app.extensions, "statements_queue", statement_queue)

    def run_pending():
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    statement_queue.run_pending = run_pending
    statement_queue.pending = lambda: huey.pending_count()
    return statement_queue


@pytest.fixture
def ledger(pharmacy):
    pharmacy.kpp = "770101001"
    pharmacy.legal_address = "Москва, ул. Аптечная, 1"
    post_charge(
        pharmacy.id,
        "1000.00",
        entry_date=date(2025, 12, 20),
        description="Отгрузка",
        document_number="УПД-0001",
    )
    post_payment(
        pharmacy.id,
        "400.00",
        entry_date=date(2025, 12, 25),
        description="Оплата",
        document_number="ПП-0001",
    )
    post_charge(
        pharmacy.id,
        "12345.67",
        entry_date=date(2026, 1, 10),
        description="Отгрузка",
        document_number="УПД-0002",
    )
    post_payment(
        pharmacy.id,
        "5000.00",
        entry_date=date(2026, 2, 1),
        description="Оплата",
        document_number="ПП-0002",
    )
    post_charge(
        pharmacy.id,
        "250.50",
        entry_date=date(2026, 3, 5),
        description="Газ",
        document_number="СЧ-77",
        contract_id=7,
    )
    post_charge(
        pharmacy.id,
        "999.00",
        entry_date=date(2026, 5, 1),
        description="После периода",
        document_number="УПД-0099",
    )
    db.session.commit()


@pytest.fixture
def today(monkeypatch):
    """Pin "today" (Moscow) for billing and metering rules; returns a setter."""
    from portal import clock

    def set_today(day):
        monkeypatch.setattr(clock, "local_today", lambda: day)
        return day

    set_today(date(2026, 11, 22))
    return set_today


@pytest.fixture
def gas_user(gas_org):
    from portal.organisations.models import ALL_POWERS
    from tests.factories import make_user

    return make_user(gas_org, ALL_POWERS, login="gas")


@pytest.fixture
def gas_due_on_the_tenth(app, monkeypatch):
    """The ledger below assumes gas months due on the 10th of the next month."""
    monkeypatch.setitem(app.config, "GAS_PAYMENT_DAY", 10)
