"""Demo documents, scans, requests and ledger entries for `flask seed-demo` (idempotent)."""

import io
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.billing.ledger import LedgerEntry, post_charge, post_payment
from portal.documents import services
from portal.documents.models import CustomerUpload, SupplierDocument
from portal.extensions import db


def _pdf(title: str) -> FileStorage:
    html = (
        "<html><body style='font-family: sans-serif'>"
        f"<h1>{title}</h1><p>Демонстрационный документ.</p></body></html>"
    )
    from portal.reports.pdf import html_to_pdf  # WeasyPrint: ~25 MB, loaded on first use

    return FileStorage(io.BytesIO(html_to_pdf(html)), filename=f"{title}.pdf")


def _user(login):
    return db.session.scalar(select(User).where(User.login == login))


def seed():
    # Services build links with url_for, which needs a request context outside a web request.
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        _seed()


def _seed():
    manager, buyer, gas = _user("manager"), _user("buyer"), _user("gas")
    if manager is None or buyer is None or gas is None:
        return
    pharmacy = buyer.active_memberships[0].organisation
    gas_org = gas.active_memberships[0].organisation
    if db.session.scalar(select(SupplierDocument.id).limit(1)) is None:
        services.publish_document(
            manager,
            _pdf("Прайс-лист"),
            organisation_id=None,
            kind="price_list",
            title="Прайс-лист на текущий месяц",
        )
        services.publish_document(
            manager,
            _pdf("Сертификат"),
            organisation_id=pharmacy.id,
            kind="certificate",
            title="Сертификат соответствия на партию 2026-118",
            number="РОСС RU.001",
        )
        services.publish_document(
            manager,
            _pdf("Счёт"),
            organisation_id=gas_org.id,
            kind="invoice",
            title="Счёт за газ, прошлый месяц",
            number="СЧ-2026-0042",
        )
    if db.session.scalar(select(CustomerUpload.id).limit(1)) is None:
        services.upload_scan(
            pharmacy,
            buyer,
            _pdf("Доверенность"),
            category="power_of_attorney",
            comment="Доверенность на получение товара",
        )
    _ledger(pharmacy.id, "УПД", 180_000)
    _ledger(gas_org.id, "СЧ", 420_000, contract_id=1)


def _ledger(organisation_id, prefix, base, contract_id=None):
    """A few months of shipments and payments, unless the organisation already has entries."""
    exists = db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.organisation_id == organisation_id).limit(1)
    )
    if exists:
        return
    start = date.today().replace(day=1) - timedelta(days=120)
    for month in range(4):
        day = start + timedelta(days=30 * month)
        amount = base + 1_234 * month
        post_charge(
            organisation_id,
            amount,
            entry_date=day,
            description="Отгрузка / начисление",
            document_number=f"{prefix}-{month + 1:04d}",
            contract_id=contract_id,
            source_type="demo",
            source_id=month,
        )
        post_payment(
            organisation_id,
            amount - 20_000,
            entry_date=day + timedelta(days=10),
            description="Оплата",
            document_number=f"ПП-{organisation_id}{month + 1:03d}",
            purpose=f"Оплата по УПД № {prefix}-{month + 1:04d}",
            contract_id=contract_id,
            source_type="demo",
            source_id=100 + month,
        )
