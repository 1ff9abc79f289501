from datetime import date

import pytest

from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Power
from tests.factories import make_user
from tests.metering.helpers import add_reading, make_contract, make_meter

# Inside the default window (days 20-25) of November 2026.
IN_WINDOW = date(2026, 11, 22)
AFTER_WINDOW = date(2026, 11, 28)


@pytest.fixture
def today(monkeypatch):
    """Pin "today" (Moscow) for the window rules; returns a setter."""

    from portal import clock

    def set_today(day):
        monkeypatch.setattr(clock, "local_today", lambda: day)
        return day

    set_today(IN_WINDOW)
    return set_today


@pytest.fixture
def gas_user(gas_org):
    return make_user(gas_org, ALL_POWERS, login="gas")


@pytest.fixture
def meters(gas_org):
    """Two meters of one contract with an October reading each (and last November's)."""
    contract = make_contract(gas_org, number="ГП-1")
    first = make_meter(gas_org, contract, digits=6, max_flow="10", serial="SN-1")
    second = make_meter(gas_org, contract, digits=6, max_flow="10", serial="SN-2")
    for meter in (first, second):
        add_reading(meter, date(2025, 10, 22), 1000)
        add_reading(meter, date(2025, 11, 22), 2000, consumption=1000)
        add_reading(meter, date(2026, 10, 22), 5000, consumption=1000)
    db.session.commit()
    return first, second


@pytest.fixture
def reader_only(gas_org):
    return make_user(gas_org, {Power.SUBMIT_READINGS}, login="reader")


@pytest.fixture
def in_request(app):
    """Service calls that build translated messages need a request (the locale comes from it)."""
    with app.test_request_context():
        yield
