"""The database goes away in the middle of work: a clear 503, nothing half-saved, recovery."""

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from portal.onboarding.models import Application
from tests.conftest import PortalClient
from tests.onboarding.test_apply import VALID
from tests.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy():
    proxy = CuttableProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def app_via_proxy(app, proxy):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    proxied = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "fault-test",
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
            "MAIL_OUTBOX": app.config["MAIL_OUTBOX"],
        }
    )
    proxied.test_client_class = PortalClient
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def applications():
    return db.session.scalar(select(func.count(Application.id)))


def test_database_down_before_the_request_gives_503_and_recovers(app_via_proxy, proxy):
    client = app_via_proxy.test_client()
    token = client.csrf_token()
    proxy.cut()
    down = client.post("/apply", data={**VALID, "csrf_token": token})
    assert down.status_code == 503
    assert "Сервис временно недоступен" in down.get_data(as_text=True)
    proxy.restore()
    assert applications() == 0
    assert client.post("/apply", data=VALID).status_code == 302
    assert applications() == 1


def test_connection_lost_mid_transaction_saves_nothing(app_via_proxy, proxy, outbox):
    client = app_via_proxy.test_client()
    token = client.csrf_token()
    with app_via_proxy.app_context():
        engine = db.engine

    def cut_after_insert(conn, clauseelement, multiparams, params, execution_options, result):
        if "INSERT INTO applications" in str(clauseelement):
            proxy.cut()

    event.listen(engine, "after_execute", cut_after_insert)
    try:
        response = client.post("/apply", data={**VALID, "csrf_token": token})
    finally:
        event.remove(engine, "after_execute", cut_after_insert)
        proxy.restore()
    assert response.status_code == 503
    assert applications() == 0
    assert outbox.messages() == []  # no confirmation for an application that does not exist
    assert client.post("/apply", data=VALID).status_code == 302


def cut_when(engine, proxy, table):
    """Cut the database connection right after the first INSERT into `table` (before commit)."""

    def listener(conn, clauseelement, multiparams, params, execution_options, result):
        if f"INSERT INTO {table}" in str(clauseelement):
            proxy.cut()

    event.listen(engine, "after_execute", listener)
    return lambda: event.remove(engine, "after_execute", listener)


def test_database_lost_during_a_checkout_leaves_no_order_and_no_reserved_stock(
    app_via_proxy, proxy, pharmacy, buyer
):
    from portal.orders.models import Order
    from tests.catalog.builders import make_item, stock_of
    from tests.factories import login

    item = make_item("Нурофен", stock=10)
    db.session.commit()
    client = app_via_proxy.test_client()
    login(client, buyer)
    client.post("/cart/add", data={"item_id": item.id, "quantity": 4})
    checkout = {
        "address_id": pharmacy.addresses[0].id,
        "payment_terms": "prepayment",
        "idempotency_key": "f" * 24,
        "csrf_token": client.csrf_token(),
    }
    with app_via_proxy.app_context():
        remove = cut_when(db.engine, proxy, "orders")
    try:
        response = client.post("/checkout", data=checkout)
    finally:
        remove()
        proxy.restore()
    assert response.status_code == 503
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert stock_of(item) == 10  # the reservation was rolled back with the order
    retry = client.post("/checkout", data={**checkout, "csrf_token": client.csrf_token()})
    assert retry.status_code == 302
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert stock_of(item) == 6


def test_database_lost_during_a_readings_submission_saves_none_of_them(
    app_via_proxy, proxy, gas_org, monkeypatch
):
    from datetime import date

    from portal import clock
    from portal.metering.models import Reading
    from tests.factories import login, make_user
    from tests.metering.helpers import add_reading, make_contract, make_meter

    monkeypatch.setattr(clock, "local_today", lambda: date(2026, 11, 22))
    contract = make_contract(gas_org, number="ГП-9")
    meters = [make_meter(gas_org, contract, serial=f"F-{n}") for n in (1, 2)]
    for meter in meters:
        add_reading(meter, date(2026, 10, 22), 5000)
    db.session.commit()
    client = app_via_proxy.test_client()
    login(client, make_user(gas_org))
    data = {
        "reading_date": "2026-11-22",
        "csrf_token": client.csrf_token(),
        **{f"value-{meter.id}": "5300" for meter in meters},
    }
    with app_via_proxy.app_context():
        remove = cut_when(db.engine, proxy, "gas_readings")
    try:
        response = client.post("/metering/readings", data=data)
    finally:
        remove()
        proxy.restore()
    assert response.status_code == 503
    readings = select(func.count(Reading.id)).where(Reading.period == date(2026, 11, 1))
    assert db.session.scalar(readings) == 0
    assert client.post("/metering/readings", data=data).status_code == 302
    assert db.session.scalar(readings) == 2
