"""Series (batches) of medicines: what each shipped order line carried, and recalls.

A line may ship several series, each with its quantity, expiry and the declaration or
certificate of conformity of that series. A recall or suspension of a series is a staff
decision with the regulator's letter; every organisation that received the series gets a
notice it acknowledges on its dashboard.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.documents.models import StoredFileColumns
from portal.extensions import db


def normal_series(value: str | None) -> str:
    """Series are compared without spaces and in upper case («ab 101» is AB101)."""
    return "".join((value or "").split()).upper()


class LineSeries(db.Model):
    """One series shipped on one order line: quantity, expiry, its declaration/certificate."""

    __tablename__ = "pharmacy_line_series"
    __table_args__ = (
        UniqueConstraint("order_line_id", "series"),
        CheckConstraint("quantity > 0", name="line_series_quantity_positive"),
        Index("ix_pharmacy_line_series_item_series", "item_id", "series"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    # Copied from the line: a recall finds every line of an item's series by these two.
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"))
    series: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    # The number of the series' declaration or certificate of conformity, and the catalogue's
    # certificate file when staff picked one of the item's.
    declaration: Mapped[str | None] = mapped_column(String(120))
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_item_certificates.id", ondelete="SET NULL")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate = relationship("ItemCertificate")
    recall = None  # set by series.series_by_line: the series' recall, if any (not a column)


class RecallKind(enum.StrEnum):
    RECALLED = "recalled"  # withdrawn from circulation
    SUSPENDED = "suspended"  # circulation suspended pending the regulator's decision

    @property
    def label(self):
        return _RECALL_LABELS[self]


_RECALL_LABELS = {
    RecallKind.RECALLED: _l("Recalled"),
    RecallKind.SUSPENDED: _l("Suspended"),
}


class SeriesRecall(StoredFileColumns, db.Model):
    """A series recalled or suspended; the stored file is the regulator's letter."""

    __tablename__ = "pharmacy_recalls"
    __table_args__ = (UniqueConstraint("item_id", "series"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"), index=True)
    series: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    letter_number: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    # Packs of the series taken out of the stock that can be ordered.
    withdrawn_packs: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item")
    created_by = relationship("User")
    notices = relationship("RecallNotice", back_populates="recall", order_by="RecallNotice.id")

    @property
    def kind_label(self):
        return RecallKind(self.kind).label


class RecallNotice(db.Model):
    """A recall as one receiving organisation sees it, until someone there acknowledges it."""

    __tablename__ = "pharmacy_recall_notices"
    __table_args__ = (UniqueConstraint("recall_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("pharmacy_recalls.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # How many packs of the series the organisation received, over all its orders.
    packs: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    recall = relationship("SeriesRecall", back_populates="notices", lazy="joined")
    acknowledged_by = relationship("User")
