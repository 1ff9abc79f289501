"""Builders for the personal data tests: a person with a history, a staff decision."""

import hashlib
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.database import utcnow
from portal.documents.models import CustomerUpload
from portal.extensions import db
from portal.inventory.models import Warehouse
from portal.orders.models import Order

SCAN = b"%PDF-1.4 the signed act of the test"


def add_upload(user, organisation, name="акт-сверки.pdf"):
    upload = CustomerUpload(
        organisation_id=organisation.id,
        uploaded_by_id=user.id,
        category="signed_act",
        stored_name=f"{user.id}-{name.encode().hex()[:20]}.pdf",
        original_name=name,
        content_type="application/pdf",
        size=len(SCAN),
        sha256=hashlib.sha256(SCAN).hexdigest(),
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def add_order(user, organisation):
    warehouse = db.session.scalar(select(Warehouse).limit(1))
    if warehouse is None:
        warehouse = Warehouse(code="MSK", name="Москва", region="Москва", is_central=True)
        db.session.add(warehouse)
        db.session.flush()
    order = Order(
        organisation_id=organisation.id,
        user_id=user.id,
        warehouse_id=warehouse.id,
        delivery_address="Москва, ул. Тестовая, 1",
        delivery_date=date.today() + timedelta(days=2),
        payment_terms="prepayment",
        idempotency_key=f"key-{user.id}",
    )
    db.session.add(order)
    db.session.flush()
    order.number = f"З-{order.id:06d}"
    return order


def audit_count(action, **where):
    query = select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return db.session.scalar(query)


def last_audit(action):
    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )


def days_ago(days):
    return utcnow() - timedelta(days=days)
