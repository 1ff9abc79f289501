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
