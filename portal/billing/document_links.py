"""Which primary document stands behind a line of the account page or the «Акт сверки».

A shipment's charge links its УПД (through the shipment), a gas month's charge its monthly
УПД (through the gas charge, once one is issued); a payment is named by its платёжное
поручение, a document of the payer the portal holds no file of, so it has no link.
"""

from flask import current_app, url_for
from sqlalchemy import select

from portal.billing.models import DocumentKind, GasCharge, PrimaryDocument, Shipment
from portal.extensions import db


def documents_of_entries(entry_ids) -> dict[int, PrimaryDocument]:
    """{ledger entry id: its УПД} for the entries that have one."""
    ids = sorted({entry_id for entry_id in entry_ids if entry_id is not None})
    if not ids:
        return {}
    found = {}
    for source, column in (
        (Shipment, PrimaryDocument.shipment_id),
        (GasCharge, PrimaryDocument.gas_charge_id),
    ):
        rows = db.session.execute(
            select(source.ledger_entry_id, PrimaryDocument)
            .join(PrimaryDocument, column == source.id)
            .where(source.ledger_entry_id.in_(ids), PrimaryDocument.kind == DocumentKind.UPD)
            .order_by(PrimaryDocument.id)
        ).all()
        for entry_id, document in rows:
            found.setdefault(entry_id, document)
    return found


def document_url(document: PrimaryDocument, external: bool = False) -> str:
    if not external:
        return url_for("billing.upd_pdf", document_id=document.id)
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for("billing.upd_pdf", document_id=document.id, _external=True)
