"""Certificates and declarations of conformity of catalogue items: PDF files staff upload.

The content checks (name, PDF by content, size) reuse portal.documents.storage; the files live
in the file store under catalog/ (portal/files/store.py), and only access-checked views send them.
"""

import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit
from portal.catalog.models import CertificateKind, Item, ItemCertificate
from portal.documents import storage
from portal.extensions import db

FOLDER = "catalog"
PDF_MAGIC = b"%PDF-"


class CertificateError(ValueError):
    """A refused upload; `field` names the form field the message belongs to."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SavedPdf:
    stored_name: str
    original_name: str
    size: int
    sha256: str


def relative_path(stored_name: str) -> str:
    """The file store key that storage.send_stored and storage.discard take."""
    return f"{FOLDER}/{stored_name}"


def save_pdf(file_storage) -> SavedPdf:
    """Check an uploaded file (a real PDF, not empty, within MAX_UPLOAD_MB) and save it."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise CertificateError(_l("Choose a file."), "file")
    try:
        original_name = storage.clean_original_name(file_storage.filename)
    except storage.FileRefused as error:
        raise CertificateError(error.message, "file") from error
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    limit = int(float(limit_mb) * 1024 * 1024)
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise CertificateError(_l("The file is empty."), "file")
    if len(data) > limit:
        raise CertificateError(_l("The file is larger than %(limit)s MB.", limit=limit_mb), "file")
    # Images are fine for scans elsewhere, but a certificate customers download must be a PDF.
    if not data.startswith(PDF_MAGIC):
        raise CertificateError(_l("Only PDF files are accepted."), "file")
    try:
        # The one check of every upload: structurally a PDF, no active content; the name's
        # extension then matches it.
        storage.detect_type(data, allowed={storage.PDF})
        original_name = storage.clean_original_name(original_name, storage.PDF)
    except storage.FileRefused as error:
        raise CertificateError(error.message, "file") from error
    stored_name = secrets.token_hex(20) + ".pdf"
    try:  # the file store: the object first, the row after
        saved = storage.put_file(relative_path(stored_name), data, storage.PDF)
    except storage.FileRefused as error:
        raise CertificateError(error.message, "file") from error
    return SavedPdf(
        stored_name=stored_name,
        original_name=original_name,
        size=saved.size,
        sha256=saved.sha256,
    )


def certificates_of(item_id: int) -> list[ItemCertificate]:
    """An item's certificates, the longest valid first."""
    return db.session.scalars(
        select(ItemCertificate)
        .where(ItemCertificate.item_id == item_id)
        .order_by(ItemCertificate.valid_until.desc(), ItemCertificate.id)
    ).all()


def add_certificate(
    item: Item, user, *, kind: str, number: str, issued_by: str, valid_until: date, file_storage
) -> ItemCertificate:
    """Save the PDF and describe it; the caller commits, or discards the file on failure."""
    if kind not in CertificateKind.__members__.values():
        raise CertificateError(_l("Choose the kind of document."), "kind")
    number = (number or "").strip()
    issued_by = (issued_by or "").strip()
    if not number:
        raise CertificateError(_l("Enter the number."), "number")
    if not issued_by:
        raise CertificateError(_l("Enter who issued it."), "issued_by")
    duplicate = db.session.scalar(
        select(ItemCertificate.id).where(
            ItemCertificate.item_id == item.id,
            ItemCertificate.kind == kind,
            ItemCertificate.number == number,
        )
    )
    if duplicate is not None:
        raise CertificateError(_l("This item already has a document with this number."), "number")
    saved = save_pdf(file_storage)
    certificate = ItemCertificate(
        item_id=item.id,
        kind=kind,
        number=number,
        issued_by=issued_by,
        valid_until=valid_until,
        stored_name=saved.stored_name,
        original_name=saved.original_name,
        sha256=saved.sha256,
        size=saved.size,
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(certificate)
    try:
        db.session.flush()
    except Exception:
        storage.discard(relative_path(saved.stored_name))
        raise
    audit.record(
        "catalog.certificate_added",
        target=certificate,
        item_id=item.id,
        sku=item.sku,
        kind=kind,
        number=number,
        sha256=saved.sha256,
    )
    return certificate


def remove_certificate(certificate: ItemCertificate) -> str:
    """Delete the record (audited); return the file path to discard once committed."""
    audit.record(
        "catalog.certificate_removed",
        target=certificate,
        item_id=certificate.item_id,
        kind=certificate.kind,
        number=certificate.number,
        sha256=certificate.sha256,
    )
    path = relative_path(certificate.stored_name)
    db.session.delete(certificate)
    db.session.flush()
    return path
