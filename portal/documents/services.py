"""Customer uploads (with review) and supplier documents: the business rules."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal import audit
from portal.database import utcnow
from portal.documents import storage
from portal.documents.models import (
    CustomerUpload,
    DocumentKind,
    SupplierDocument,
    UploadCategory,
    UploadStatus,
)
from portal.documents.subjects import SubjectError, resolve_subject
from portal.errors import UserError
from portal.extensions import db
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.organisations.models import Membership, Organisation, Power

# Financial documents are shown only to members who may see the finances.
MOSCOW = ZoneInfo("Europe/Moscow")
FINANCE_KINDS = frozenset({DocumentKind.CONTRACT, DocumentKind.INVOICE, DocumentKind.ACT})


def _store(file_storage, field="file"):
    try:
        return storage.store_upload(file_storage)
    except storage.FileRefused as error:
        raise UserError(error.message, field) from error


# --- customer uploads ----------------------------------------------------------------------


def upload_scan(
    organisation, user, file_storage, *, category, comment=None, subject_kind=None, subject_id=None
) -> CustomerUpload:
    """Save a customer's scan for review; a foreign or unknown subject is refused first."""
    if category not in UploadCategory.__members__.values():
        raise UserError(_l("Choose a category."), "category")
    try:
        subject = resolve_subject(organisation.id, subject_kind, subject_id)
    except SubjectError as error:
        raise UserError(error.message, "subject_id") from error
    stored = _store(file_storage)
    upload = CustomerUpload(
        organisation_id=organisation.id,
        uploaded_by_id=user.id,
        category=category,
        comment=(comment or "").strip() or None,
        subject_kind=subject.kind if subject else None,
        subject_id=subject.object_id if subject else None,
        subject_label=subject.label[:200] if subject else None,
    )
    upload.set_file(stored)
    db.session.add(upload)
    db.session.flush()
    audit.record(
        "documents.uploaded", target=upload, organisation=organisation, sha256=stored.sha256
    )
    _notify_manager_of_upload(organisation, upload)
    return upload


def _notify_manager_of_upload(organisation, upload):
    if organisation.manager is not None:
        notify(
            organisation.manager,
            _l("New scan from %(name)s", name=organisation.legal_name),
            body=upload.original_name,
            link=url_for("documents.review_upload", upload_id=upload.id),
            organisation=organisation,
        )


def organisation_uploads(organisation_id):
    return (
        select(CustomerUpload)
        .where(
            CustomerUpload.organisation_id == organisation_id, CustomerUpload.deleted_at.is_(None)
        )
        .order_by(CustomerUpload.created_at.desc(), CustomerUpload.id.desc())
    )


def review_queue(status=UploadStatus.PENDING):
    query = select(CustomerUpload).where(CustomerUpload.deleted_at.is_(None))
    if status:
        query = query.where(CustomerUpload.status == status)
    return query.order_by(CustomerUpload.created_at, CustomerUpload.id)


def pending_upload_count() -> int:
    return db.session.scalar(
        select(func.count(CustomerUpload.id)).where(
            CustomerUpload.deleted_at.is_(None), CustomerUpload.status == UploadStatus.PENDING
        )
    )


def review_upload(upload, reviewer, *, accept: bool, comment: str | None) -> CustomerUpload:
    """Accept or reject a pending scan; a rejection must say why. The uploader is notified."""
    comment = (comment or "").strip() or None
    # Lock the row so two managers cannot decide the same scan at once.
    # populate_existing: re-read the locked row, not the copy this session loaded earlier.
    upload = db.session.scalar(
        select(CustomerUpload)
        .where(CustomerUpload.id == upload.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if upload.deleted_at is not None or upload.status != UploadStatus.PENDING:
        raise UserError(_l("This scan has already been reviewed."), "comment")
    if not accept and not comment:
        raise UserError(_l("Say why the scan is rejected."), "comment")
    upload.status = UploadStatus.ACCEPTED if accept else UploadStatus.REJECTED
    upload.review_comment = comment
    upload.reviewed_by_id = reviewer.id
    upload.reviewed_at = utcnow()
    audit.record(
        "documents.upload_accepted" if accept else "documents.upload_rejected",
        target=upload,
        organisation=upload.organisation_id,
        comment=comment,
    )
    title = (
        _l("Your scan «%(name)s» has been accepted", name=upload.original_name)
        if accept
        else _l("Your scan «%(name)s» has been rejected", name=upload.original_name)
    )
    uploader = upload.uploaded_by
    notify(
        uploader,
        title,
        body=comment,
        link=url_for("documents.list_uploads"),
        organisation=upload.organisation_id,
    )
    if uploader is not None and uploader.is_active and uploader.notify_request_answers:
        send_mail(
            uploader.email,
            title,
            "documents/mail/reviewed",
            uploader.language,
            user=uploader,
            upload=upload,
            title=title,
            accepted=accept,
        )
    db.session.flush()
    return upload


def delete_upload(upload, user) -> None:
    """Soft delete: file and row stay for the audit trail; the customer no longer sees it."""
    if upload.deleted_at is not None:
        raise UserError(_l("This scan has already been deleted."))
    if upload.status == UploadStatus.ACCEPTED:
        raise UserError(_l("An accepted scan cannot be deleted; ask your manager."))
    upload.deleted_at = utcnow()
    upload.deleted_by_id = user.id
    audit.record("documents.upload_deleted", target=upload, organisation=upload.organisation_id)
    db.session.flush()


# --- supplier documents -----------------------------------------------------------------------


def visible_kinds(membership) -> list[str]:
    kinds = [kind.value for kind in DocumentKind]
    if membership.has(Power.VIEW_FINANCE):
        return kinds
    return [kind for kind in kinds if kind not in FINANCE_KINDS]


def documents_for(membership, *, kind=None, search=None, date_from=None, date_to=None):
    """The documents a member sees: published to the organisation or to all, not withdrawn."""
    query = select(SupplierDocument).where(
        or_(
            SupplierDocument.organisation_id == membership.organisation_id,
            SupplierDocument.organisation_id.is_(None),
        ),
        SupplierDocument.withdrawn_at.is_(None),
        SupplierDocument.kind.in_(visible_kinds(membership)),
    )
    if kind:
        query = query.where(SupplierDocument.kind == kind)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(
            or_(SupplierDocument.title.ilike(pattern), SupplierDocument.number.ilike(pattern))
        )
    if date_from:
        query = query.where(SupplierDocument.created_at >= _start_of(date_from))
    if date_to:
        query = query.where(SupplierDocument.created_at < _start_of(date_to, days=1))
    return query.order_by(SupplierDocument.created_at.desc(), SupplierDocument.id.desc())


def _start_of(day, days=0):
    # Dates in filters are Moscow calendar days; timestamps are stored in UTC.
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=MOSCOW)


def get_visible_document(membership, document_id) -> SupplierDocument | None:
    return db.session.scalar(documents_for(membership).where(SupplierDocument.id == document_id))


def hidden_by_power(membership, document_id) -> bool:
    document = db.session.get(SupplierDocument, document_id)
    return (
        document is not None
        and document.withdrawn_at is None
        and document.organisation_id in (None, membership.organisation_id)
        and document.kind not in visible_kinds(membership)
    )


def publish_document(
    staff_user, file_storage, *, organisation_id, kind, title, number=None, document_date=None
) -> SupplierDocument:
    """Publish a file to one organisation (or to all with organisation_id None) and notify."""
    organisation = None
    if organisation_id:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None or not organisation.is_active:
            raise UserError(_l("Choose an active organisation."), "organisation_id")
    if kind not in DocumentKind.__members__.values():
        raise UserError(_l("Choose the kind of document."), "kind")
    stored = _store(file_storage)
    document = SupplierDocument(
        organisation_id=organisation.id if organisation else None,
        kind=kind,
        title=title.strip(),
        number=(number or "").strip() or None,
        document_date=document_date,
        published_by_id=staff_user.id,
    )
    document.set_file(stored)
    db.session.add(document)
    db.session.flush()
    audit.record(
        "documents.published",
        target=document,
        organisation=organisation,
        to_all=organisation is None,
        sha256=stored.sha256,
    )
    _notify_members_of_document(document)
    return document


def _notify_members_of_document(document):
    query = (
        select(Membership)
        .join(Organisation, Membership.organisation_id == Organisation.id)
        .where(Membership.is_blocked.is_(False), Organisation.is_active.is_(True))
    )
    if document.organisation_id is not None:
        query = query.where(Membership.organisation_id == document.organisation_id)
    link = url_for("documents.list_documents")
    for membership in db.session.scalars(query):
        if document.kind in FINANCE_KINDS and not membership.has(Power.VIEW_FINANCE):
            continue
        notify(
            membership.user,
            _l("New document: %(title)s", title=document.title),
            link=link,
            organisation=membership.organisation_id,
        )


def withdraw_document(document, staff_user) -> None:
    if document.withdrawn_at is not None:
        raise UserError(_l("This document has already been withdrawn."))
    document.withdrawn_at = utcnow()
    audit.record("documents.withdrawn", target=document, organisation=document.organisation_id)
    db.session.flush()


def recent_documents(membership, days=30, limit=5):
    since = utcnow() - timedelta(days=days)
    query = documents_for(membership).where(SupplierDocument.created_at >= since)
    return db.session.scalars(query.limit(limit)).all()
