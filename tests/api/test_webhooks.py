"""Webhooks: registered by an organisation administrator (secret shown once, audited),
events stored with the order workflow's transaction, POSTed signed to a real local HTTP
server by the worker's task, retried with backoff after a 500, logged and re-sent."""

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.api import webhooks
from portal.api.order_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from portal.audit import AuditEvent
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.orders import workflow
from portal.organisations.models import ALL_POWERS, Power
from tests.api.conftest import bearer, issue_key
from tests.catalog.builders import give_terms, make_item
from tests.factories import login, make_organisation, make_user

SECRET_RE = re.compile(r'data-testid="webhook-secret">(whsec_[A-Za-z0-9_-]+)<')


class Receiver:
    """A real HTTP server on localhost that records POSTs and answers with `codes` in turn."""

    def __init__(self, codes=(200,)):
        self.codes = list(codes)
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if len(receiver.codes) > 1 else receiver.codes[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _admin():
    organisation = make_organisation()
    give_terms(organisation)
    return organisation, make_user(organisation, ALL_POWERS)


def _register(client, url, events=tuple(webhooks.WebhookEvent)):
    return client.post("/organisation/webhooks", data={"url": url, "events": list(events)})


def _run_worker():
    """What the worker does: the queued task, here as the minute sweep of due deliveries."""
    return webhooks.deliver_due(utcnow() + timedelta(seconds=1))


def test_an_administrator_registers_a_url_and_sees_the_secret_once(app):
    organisation, admin = _admin()
    client = app.test_client()
    login(client, admin)
    page = _register(client, "http://localhost:9/hook")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = SECRET_RE.search(page.get_data(as_text=True)).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.organisation_id == organisation.id and endpoint.secret == secret
    listing = client.get("/organisation/webhooks").get_data(as_text=True)
    assert "http://localhost:9/hook" in listing and secret not in listing
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "webhook.registered" in actions
    # Without the CSRF token nothing is registered.
    refused = client.post(
        "/organisation/webhooks", data={"url": "http://localhost:8/x"}, csrf=False
    )
    assert refused.status_code in (400, 422)
    assert db.session.query(WebhookEndpoint).count() == 1
    removed = client.post(f"/organisation/webhooks/{endpoint.id}/remove")
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).is_active is False


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "http://example.org/hook", "https://user:pw@example.org/x", "hook"],
)
def test_bad_addresses_are_refused_in_development(app, url):
    _organisation, admin = _admin()
    client = app.test_client()
    login(client, admin)
    page = _register(client, url)
    assert page.status_code == 422
    assert db.session.query(WebhookEndpoint).count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
    ],
)
def test_production_refuses_plain_http_and_private_targets(app, monkeypatch, url):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    with app.test_request_context(), pytest.raises(UserError) as refused:
        webhooks.check_url(url)
    assert refused.value.field == "url"


def test_production_accepts_a_public_https_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    monkeypatch.setattr(
        webhooks.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.215.14", 0))]
    )
    assert webhooks.check_url("https://erp.example.org/hook") == "https://erp.example.org/hook"


def test_an_order_status_change_is_posted_signed_and_retried_after_a_500(app, api_client):
    organisation, admin = _admin()
    item = make_item(stock=10)
    with Receiver(codes=(500, 200)) as receiver:
        membership = admin.memberships[0]
        endpoint = webhooks.register_endpoint(membership, receiver.url, ["order.status_changed"])
        db.session.commit()
        _key, token = issue_key(organisation, (Power.ORDER,), user=admin)
        placed = api_client.post(
            "/api/v1/orders",
            json={"lines": [{"sku": item.sku, "quantity": 1}], "payment_terms": "prepayment"},
            headers=bearer(token),
            csrf=False,
        )
        assert placed.status_code == 201
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0

        assert _run_worker() == 1  # the receiver answers 500
        db.session.expire_all()
        delivery = db.session.get(WebhookDelivery, delivery.id)
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        assert delivery.response_code == 500
        wait = delivery.next_attempt_at - utcnow()
        assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
        assert _run_worker() == 0  # not due yet
        assert webhooks.deliver_due(utcnow() + timedelta(seconds=61)) == 1
        db.session.expire_all()
        delivery = db.session.get(WebhookDelivery, delivery.id)
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2

    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    assert webhooks.verify(endpoint.secret, body, headers["X-Portal-Signature"])
    assert not webhooks.verify("whsec_other", body, headers["X-Portal-Signature"])
    assert not webhooks.verify(endpoint.secret, body + b" ", headers["X-Portal-Signature"])
    event = json.loads(body)
    assert event["type"] == "order.status_changed" and event["id"] == headers["X-Portal-Event-Id"]
    assert (
        event["data"]["status"] == "new" and event["data"]["number"] == placed.get_json()["number"]
    )

    # The delivery log shows it, and «Send again» queues it anew.
    client = app.test_client()
    login(client, admin)
    log = client.get("/organisation/webhooks").get_data(as_text=True)
    assert "HTTP 200" in log and event["id"][:8] in log
    assert client.post(f"/organisation/webhooks/deliveries/{delivery.id}/resend").status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).status == DeliveryStatus.PENDING


def test_attempts_end_after_the_maximum_and_a_rollback_sends_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 2)
    organisation, admin = _admin()
    with Receiver(codes=(503,)) as receiver:
        webhooks.register_endpoint(admin.memberships[0], receiver.url, ["order.status_changed"])
        db.session.commit()
        webhooks.emit("order.status_changed", organisation.id, {"number": "X"})
        db.session.rollback()
        assert db.session.query(WebhookDelivery).count() == 0
        webhooks.emit("order.status_changed", organisation.id, {"number": "Y"})
        db.session.commit()
        webhooks.deliver_due(utcnow() + timedelta(seconds=1))
        webhooks.deliver_due(utcnow() + timedelta(days=1))
        webhooks.deliver_due(utcnow() + timedelta(days=2))
    delivery = db.session.scalar(select(WebhookDelivery))
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert len(receiver.received) == 2


def test_staff_status_changes_emit_and_other_organisations_hear_nothing(app):
    organisation, admin = _admin()
    other, other_admin = _admin()
    webhooks.register_endpoint(
        admin.memberships[0], "http://localhost:9/a", ["order.status_changed"]
    )
    webhooks.register_endpoint(
        other_admin.memberships[0], "http://localhost:9/b", ["order.status_changed"]
    )
    webhooks.register_endpoint(admin.memberships[0], "http://localhost:9/c", ["document.issued"])
    db.session.commit()
    from tests.catalog.builders import make_order

    order = make_order(organisation)
    staff = make_user(None, staff_role="manager")
    workflow.change_status(order, "confirmed", staff)
    db.session.commit()
    rows = db.session.scalars(select(WebhookDelivery)).all()
    assert [(r.endpoint.url, json.loads(r.payload)["data"]["status"]) for r in rows] == [
        ("http://localhost:9/a", "confirmed")
    ]


def test_an_issued_upd_is_an_event(app):
    from datetime import date

    from tests.billing.receivable_builders import shipped_order

    organisation, admin = _admin()
    webhooks.register_endpoint(admin.memberships[0], "http://localhost:9/d", ["document.issued"])
    db.session.commit()
    shipped_order(organisation, date.today())
    db.session.commit()
    rows = db.session.scalars(select(WebhookDelivery)).all()
    assert [r.event for r in rows] == ["document.issued"]
    data = json.loads(rows[0].payload)["data"]
    assert data["kind"] == "upd" and data["number"] and data["date"] == date.today().isoformat()
