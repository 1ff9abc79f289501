"""Webhooks: an organisation's events POSTed, signed, to the URLs its administrator registers.

`emit(event, organisation_id, data)` is called where the event happens (the order workflow,
issued documents); it stores one delivery per subscribed endpoint in the caller's transaction
and, once that transaction commits, queues them to the background worker. The worker POSTs
the JSON body with

    X-Portal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>
    X-Portal-Event: order.status_changed        X-Portal-Event-Id: <uuid>

and retries a failure (no answer, or not 2xx) after 1, 2, 4, 8 … minutes, up to
WEBHOOK_MAX_ATTEMPTS attempts. In production a URL must be https and may not lead to a
private, loopback or link-local address (checked when registered and again before each POST).
"""

import enum
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal import audit, transactions
from portal.api.order_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db

SIGNATURE_HEADER = "X-Portal-Signature"


class WebhookEvent(enum.StrEnum):
    """What a webhook may be told about."""

    ORDER_STATUS_CHANGED = "order.status_changed"
    DOCUMENT_ISSUED = "document.issued"

    @property
    def label(self):
        return {
            WebhookEvent.ORDER_STATUS_CHANGED: _l("Order status changed"),
            WebhookEvent.DOCUMENT_ISSUED: _l("New document issued"),
        }[self]


def event_label(event: str):
    """The label of a stored event name; a name no longer known is shown as it is."""
    try:
        return WebhookEvent(event).label
    except ValueError:
        return event


PENDING_KEY = "webhook_deliveries_to_queue"


# --- signing ----------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-Portal-Signature value of a body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does (docs/API.md has the same in a few lines)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- endpoints ----------------------------------------------------------------------------


def _production() -> bool:
    return current_app.config.get("PORTAL_ENV") == "production"


def _blocked_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def check_url(url: str) -> str:
    """The URL if it may receive webhooks here, else a UserError saying why."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UserError(_l("Enter a full address starting with https://."), field="url")
    if parts.username or parts.password:
        raise UserError(_l("The address may not contain a user name or password."), field="url")
    if _production():
        if parts.scheme != "https":
            raise UserError(_l("The address must start with https://."), field="url")
        check_target(parts.hostname)
    elif parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise UserError(_l("Plain http is allowed only to localhost; use https://."), field="url")
    return url


def check_target(hostname: str) -> None:
    """Refuse a host that resolves to a private, loopback or link-local address (SSRF)."""
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UserError(
            _l("The host name of the address cannot be resolved."), field="url"
        ) from None
    if any(_blocked_address(info[4][0]) for info in infos):
        raise UserError(
            _l("The address leads to a private network; use a public address."), field="url"
        )


def register_endpoint(membership, url, events) -> WebhookEndpoint:
    url = check_url(url)
    events = [e for e in events if e in WebhookEvent.__members__.values()]
    if not events:
        raise UserError(_l("Choose at least one event."), field="events")
    endpoint = WebhookEndpoint(
        organisation_id=membership.organisation_id,
        created_by_id=membership.user_id,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events_text=",".join(events),
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        "webhook.registered",
        target=endpoint,
        organisation=membership.organisation_id,
        url=url,
        events=events,
    )
    return endpoint


def remove_endpoint(endpoint: WebhookEndpoint) -> None:
    endpoint.is_active = False
    audit.record(
        "webhook.removed", target=endpoint, organisation=endpoint.organisation_id, url=endpoint.url
    )
    db.session.flush()


def endpoints_of(organisation_id):
    return db.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.organisation_id == organisation_id)
        .order_by(WebhookEndpoint.is_active.desc(), WebhookEndpoint.id.desc())
    ).all()


def deliveries_of(organisation_id, limit=100):
    return db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.organisation_id == organisation_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()


# --- events -------------------------------------------------------------------------------


def document_data(document) -> dict:
    """What a `document.issued` event carries about a primary document (УПД, УКД …)."""
    return {
        "id": document.id,
        "kind": str(document.kind),
        "number": f"{document.series}-{document.number}"
        if document.series
        else str(document.number),
        "date": document.document_date.isoformat(),
    }


def emit(event: str, organisation_id: int, data: dict) -> list[WebhookDelivery]:
    """Store a delivery of the event for each of the organisation's endpoints that wants it;
    they are queued once the current transaction commits (nothing is sent for a rollback)."""
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.organisation_id == organisation_id,
            WebhookEndpoint.is_active.is_(True),
        )
    ).all()
    created = []
    now = utcnow()
    for endpoint in endpoints:
        if event not in endpoint.events:
            continue
        event_id = str(uuid.uuid4())
        body = {
            "id": event_id,
            "type": event,
            "created_at": now.isoformat(),
            "organisation_id": organisation_id,
            "data": data,
        }
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            organisation_id=organisation_id,
            event_id=event_id,
            event=event,
            payload=json.dumps(body, ensure_ascii=False, default=str),
            next_attempt_at=now,
        )
        db.session.add(delivery)
        created.append(delivery)
    if created:
        db.session.flush()
        db.session.info.setdefault(PENDING_KEY, []).extend(d.id for d in created)
    return created


def install(app) -> None:
    """Queue the deliveries of a committed transaction (see emit); the worker's task."""
    from sqlalchemy.orm import Session

    @sa_event.listens_for(Session, "after_commit")
    def _queue_after_commit(session):
        ids = session.info.pop(PENDING_KEY, None)
        if ids:
            for delivery_id in ids:
                enqueue(delivery_id)

    @sa_event.listens_for(Session, "after_rollback")
    def _forget_after_rollback(session):
        if not session.in_transaction():
            session.info.pop(PENDING_KEY, None)

    from portal.jobs.queue import job_queue

    huey = job_queue(app)

    @huey.task(retries=0, context=False)
    def deliver_webhook(delivery_id):
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            deliver(delivery_id)

    @huey.periodic_task(_every_minute(), retries=0, context=False)
    def deliver_due_webhooks():
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            deliver_due()

    app.extensions["webhook_task"] = deliver_webhook


def _every_minute():
    from huey import crontab

    return crontab(minute="*")


def enqueue(delivery_id: int, delay: float | None = None) -> None:
    task = current_app.extensions.get("webhook_task")
    # Immediate mode (tests) would run the task inside the commit hook, where the session
    # cannot work: tests call the task themselves (webhooks.deliver / deliver_due).
    # Test runs do not queue either (their queue file is the development one): tests run the
    # task's body themselves; WEBHOOK_QUEUE = True turns queueing on.
    queue = current_app.config.get("WEBHOOK_QUEUE", not current_app.testing)
    if task is None or task.huey.immediate or not queue:
        return
    if delay:
        task.schedule(args=(delivery_id,), delay=delay)
    else:
        task(delivery_id)


# --- delivery (in the worker) -------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: wait 1, 2, 4, 8 … minutes (at most a day)."""
    base = int(current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 86400))


def deliver(delivery_id: int) -> WebhookDelivery | None:
    """One attempt: POST the signed body, note the answer, plan the next try on failure."""
    with transactions.unit_of_work():  # its own transaction: the row stays locked till the end
        delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery
        now = _attempt(delivery)
    if delivery.status == DeliveryStatus.PENDING:
        enqueue(delivery.id, delay=(delivery.next_attempt_at - now).total_seconds())
    return delivery


def _attempt(delivery: WebhookDelivery):
    endpoint = delivery.endpoint
    body = delivery.payload.encode()
    delivery.attempts += 1
    code, error = None, None
    try:
        if not endpoint.is_active:
            raise UserError(_l("The webhook has been removed."))
        check_url(endpoint.url)  # the host may resolve elsewhere now (DNS rebinding)
        response = requests.post(
            endpoint.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "supplier-portal-webhooks/1",
                SIGNATURE_HEADER: sign(endpoint.secret, body),
                "X-Portal-Event": delivery.event,
                "X-Portal-Event-Id": delivery.event_id,
            },
            timeout=float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10)),
            allow_redirects=False,
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except UserError as refused:
        error = str(refused.message)
    except requests.RequestException as failure:
        error = type(failure).__name__
    delivery.response_code = code
    delivery.last_error = error[:500] if error else None
    now = utcnow()
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8)):
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    return now


def deliver_due(now=None) -> int:
    """Attempt every pending delivery whose next try is due (the worker's minute sweep: it
    also picks up what a lost queue message or a stopped worker left behind)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(500)
    ).all()
    for delivery_id in ids:
        deliver(delivery_id)
    return len(ids)


def resend(delivery: WebhookDelivery, user) -> WebhookDelivery:
    """The administrator's «Send again»: a new attempt soon, with the attempts counted anew."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    audit.record(
        "webhook.resent",
        target=delivery,
        organisation=delivery.organisation_id,
        event_id=delivery.event_id,
    )
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append(delivery.id)
    return delivery
