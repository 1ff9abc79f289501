import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime
from portal.extensions import db


class StoredFileColumns:
    """The columns every stored file keeps (see portal.documents.storage)."""

    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    def set_file(self, stored) -> None:
        self.stored_name = stored.stored_name
        self.original_name = stored.original_name
        self.content_type = stored.content_type
        self.size = stored.size
        self.sha256 = stored.sha256


class UploadCategory(enum.StrEnum):
    SIGNED_CONTRACT = "signed_contract"
    SIGNED_ACT = "signed_act"
    LICENCE = "licence"
    PAYMENT_ORDER = "payment_order"
    POWER_OF_ATTORNEY = "power_of_attorney"
    OTHER = "other"

    @property
    def label(self):
        return {
            UploadCategory.SIGNED_CONTRACT: _l("Signed contract"),
            UploadCategory.SIGNED_ACT: _l("Signed act or waybill"),
            UploadCategory.LICENCE: _l("Licence"),
            UploadCategory.PAYMENT_ORDER: _l("Payment order"),
            UploadCategory.POWER_OF_ATTORNEY: _l("Power of attorney"),
            UploadCategory.OTHER: _l("Other"),
        }[self]


class UploadStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self):
        return {
            UploadStatus.PENDING: _l("under review"),
            UploadStatus.ACCEPTED: _l("accepted"),
            UploadStatus.REJECTED: _l("rejected"),
        }[self]


class CustomerUpload(StoredFileColumns, Timestamped, db.Model):
    """A scan sent by a customer, reviewed by a manager."""

    __tablename__ = "customer_uploads"
    __table_args__ = (Index("ix_customer_uploads_status", "status", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(32))

    @property
    def category_label(self):
        return UploadCategory(self.category).label

    comment: Mapped[str | None] = mapped_column(Text)
    subject_kind: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column()
    subject_label: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.PENDING)

    @property
    def status_label(self):
        return UploadStatus(self.status).label

    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation = relationship("Organisation")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])


class DocumentKind(enum.StrEnum):
    CONTRACT = "contract"
    INVOICE = "invoice"
    ACT = "act"
    CERTIFICATE = "certificate"
    PRICE_LIST = "price_list"
    OTHER = "other"

    @property
    def label(self):
        return {
            DocumentKind.CONTRACT: _l("Contract"),
            DocumentKind.INVOICE: _l("Invoice"),
            DocumentKind.ACT: _l("Act"),
            DocumentKind.CERTIFICATE: _l("Certificate"),
            DocumentKind.PRICE_LIST: _l("Price list"),
            DocumentKind.OTHER: _l("Other"),
        }[self]


class SupplierDocument(StoredFileColumns, Timestamped, db.Model):
    """A document the supplier publishes to one organisation or (organisation_id None) to all."""

    __tablename__ = "supplier_documents"
    __table_args__ = (Index("ix_supplier_documents_org_created", "organisation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))

    @property
    def kind_label(self):
        return DocumentKind(self.kind).label

    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(64))
    document_date: Mapped[date | None] = mapped_column(Date)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation")
    published_by = relationship("User")
