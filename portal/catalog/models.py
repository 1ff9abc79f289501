"""The catalogue: items, their makers and categories, prices, promotions, certificates.

Stock and batches per warehouse live in portal.inventory (the same tables as before)."""

import enum
import re
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    literal_column,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.collation import CREATE_COLLATION, ordered
from portal.database import Money, Timestamped, UTCDateTime, utcnow
from portal.extensions import db
from portal.inventory.models import Batch, Stock
from portal.money import to_money

# Between two numbers «х», «x», «*» and «×» all mean "by" («бинт 7х14», «7 × 14 см»).
_BY = re.compile(r"(?<=\d)\s*[xх*×]\s*(?=\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")  # «0,5 г» and «0.5 г» are one number
# A number and the unit glued to it («200мг», «5ml», «7х14») are two words; a Latin code
# before digits stays whole (SKU «A00007», «B6», «D3»), a Cyrillic word does not («мг5»).
_GLUED = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[а-я])(?=\d)")


def normalise_search_text(*parts) -> str:
    """What both the stored column and queries go through: lower case, «ё» as «е», numbers
    apart from their units, one decimal mark («.»), «x» for "by", «/» and «%» words of their
    own («10 мг/мл» as «10 мг / мл»), single spaces. The migration 0026_search_forgiving keeps a
    frozen copy of this rule: change both (and recompute the column) together."""
    text = " ".join(str(p) for p in parts if p)
    text = text.lower().replace("ё", "е").replace("×", " x ")
    text = _BY.sub(" x ", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = _GLUED.sub(" ", text)
    text = text.replace("/", " / ").replace("%", " % ")
    return " ".join(text.split())


def item_search_text(trade_name, generic_name, dosage_form, strength, maker, sku, barcode) -> str:
    """What a buyer may type to find an item: names, МНН, form and strength («нурофен 200 мг»),
    maker, codes. It begins with a space: every word, the first too, follows one, so a short
    word or a dose is matched from the start of a word (« мл», « 10 »; see search.py)."""
    return " " + normalise_search_text(
        trade_name, generic_name, dosage_form, strength, maker, sku, barcode
    )


class Category(db.Model):
    __tablename__ = "catalog_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Manufacturer(db.Model):
    __tablename__ = "catalog_manufacturers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(100))


def full_item_name(trade_name, dosage_form, strength, pack_size) -> str:
    """«Нурофен, таблетки, 200 мг, №24»: how an item is named on every page and document."""
    name = ", ".join(part for part in (trade_name, dosage_form, strength) if part)
    return f"{name}, №{pack_size}" if pack_size else name


class Item(Timestamped, db.Model):
    __tablename__ = "catalog_items"
    __table_args__ = (
        CheckConstraint("min_quantity >= 1 AND order_multiple >= 1", name="positive_quantities"),
        # On PostgreSQL a GIN trigram index: it serves LIKE '%word%' and the typo-tolerant
        # fallback. SQLite gets a plain index, which it scans instead of the wider table.
        # Written directly (fastupdate off): a pending list would be read by every search.
        Index(
            "ix_catalog_items_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
        # The default sort (by name): a page is read off this index instead of sorting every
        # matching row (the unfiltered catalogue of 50,000 items: ~50 ms -> ~1 ms).
        # In Russian order (portal/collation.py): the index is built with the collation the
        # ORDER BY uses, or PostgreSQL would sort instead of reading it.
        Index("ix_catalog_items_name_order", ordered(literal_column("trade_name")), "id"),
        # The API's delta sync reads pages in (updated_at, id) order.
        Index("ix_catalog_items_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    trade_name: Mapped[str] = mapped_column(String(255))
    generic_name: Mapped[str | None] = mapped_column(String(255))  # МНН
    dosage_form: Mapped[str | None] = mapped_column(String(120))
    strength: Mapped[str | None] = mapped_column(String(60))
    pack_size: Mapped[int | None] = mapped_column(Integer)
    manufacturer_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_manufacturers.id"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_categories.id"), index=True)
    barcode: Mapped[str | None] = mapped_column(String(13), index=True)
    is_rx: Mapped[bool] = mapped_column(Boolean, default=False)
    is_vital: Mapped[bool] = mapped_column(Boolean, default=False)  # ЖНВЛП
    storage_conditions: Mapped[str | None] = mapped_column(String(200))
    is_cold_chain: Mapped[bool] = mapped_column(Boolean, default=False)
    # The VAT category (billing.models.VatCategory); the rate is the one in force on the
    # document's tax date (billing.tax.rate_on).
    vat_category: Mapped[str] = mapped_column(String(16), default="reduced")
    # What the УПД prints: the unit by ОКЕИ (778 «упак», 796 «шт») and the country of
    # origin by ОКСМ (643 «РОССИЯ»); the import may set both (portal.billing.okei).
    okei_code: Mapped[str] = mapped_column(String(4), default="778", server_default="778")
    origin_country_code: Mapped[str | None] = mapped_column(
        String(3), default="643", server_default="643"
    )
    description: Mapped[str | None] = mapped_column(Text)
    min_quantity: Mapped[int] = mapped_column(Integer, default=1)
    order_multiple: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # item_search_text(): names, МНН, form, strength, maker, codes; LIKE (trigrams on PG).
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Bumped by any change of the item, its prices, stock, batches or promotions
    # (touch_items_on_flush below, catalog.listing.touch_items for bulk stock moves).
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    manufacturer = relationship("Manufacturer", lazy="joined")
    category = relationship("Category", lazy="joined")
    stock = relationship("Stock", back_populates="item", order_by="Stock.warehouse_id")
    batches = relationship("Batch", back_populates="item", order_by="Batch.expires_on")

    @property
    def full_name(self) -> str:
        return full_item_name(self.trade_name, self.dosage_form, self.strength, self.pack_size)

    def refresh_search_text(self) -> None:
        self.search_text = item_search_text(
            self.trade_name,
            self.generic_name,
            self.dosage_form,
            self.strength,
            self.manufacturer.name if self.manufacturer else None,
            self.sku,
            self.barcode,
        )


def search_words(search_text: str) -> set[str]:
    """The words of a normalised search text that a typo can be corrected to (no numbers)."""
    return {
        w for w in search_text.split() if 3 <= len(w) <= 120 and not any(c.isdigit() for c in w)
    }


class SearchWord(db.Model):
    """Every word of the catalogue's names, МНН and makers, once: a misspelt query word is
    compared with these few thousand words (not with 50,000 items) to find what was meant.

    Items add their words when saved (see portal.catalog.words); words of deleted or renamed
    items stay until `rebuild_search_words` runs (after an import) and merely find nothing.
    """

    __tablename__ = "catalog_search_words"
    __table_args__ = (
        # GiST, not GIN: the typo search asks for the words nearest a query word
        # (ORDER BY word <-> token LIMIT n), which only a GiST trigram index answers from
        # the index; with GIN PostgreSQL compared all 8,000 words (14 ms against 1.4 ms).
        Index(
            "ix_catalog_search_words_trgm",
            "word",
            postgresql_using="gist",
            postgresql_ops={"word": "gist_trgm_ops"},
        ),  # SQLite: a plain index beside the primary key (kept alike for the migrations)
    )

    word: Mapped[str] = mapped_column(String(120), primary_key=True)


# pg_trgm gives similarity() and the trigram operators; tests build tables with create_all.
event.listen(
    db.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)
event.listen(db.metadata, "before_create", DDL(CREATE_COLLATION).execute_if(dialect="postgresql"))


class PriceList(db.Model):
    """A price type: the base list, or a special one given to some organisations."""

    __tablename__ = "catalog_price_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_base: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemPrice(db.Model):
    __tablename__ = "catalog_item_prices"
    __table_args__ = (
        UniqueConstraint("price_list_id", "item_id"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("catalog_price_lists.id"))
    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), index=True
    )
    price: Mapped[Decimal] = mapped_column(Money)  # per pack, VAT included


class OrganisationPricing(db.Model):
    """An organisation's terms: its price type (else the base list) and a discount on it."""

    __tablename__ = "catalog_organisation_pricing"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_price_lists.id"))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # A change of the terms changes every price: the API's delta sync then returns every item.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    price_list = relationship("PriceList")


class PromotionStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"

    @property
    def label(self):
        return {
            PromotionStatus.PLANNED: _lp("promotion status", "planned"),
            PromotionStatus.ACTIVE: _lp("promotion status", "active"),
            PromotionStatus.ENDED: _lp("promotion status", "ended"),
        }[self]


class Promotion(db.Model):
    """A special offer between two dates (inclusive) on one item or on every item of a
    category: a percentage off the organisation's price, or a fixed price per pack.
    Staff end it early with `ended_at`; an ended promotion never applies again."""

    __tablename__ = "catalog_promotions"
    __table_args__ = (
        CheckConstraint(
            "discount_percent IS NULL OR (discount_percent > 0 AND discount_percent < 100)",
            name="discount_range",
        ),
        CheckConstraint("fixed_price IS NULL OR fixed_price > 0", name="fixed_price_positive"),
        CheckConstraint(
            "(discount_percent IS NULL) <> (fixed_price IS NULL)", name="percent_or_price"
        ),
        CheckConstraint("(item_id IS NULL) <> (category_id IS NULL)", name="item_or_category"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_catalog_promotions_dates", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_categories.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    fixed_price: Mapped[Decimal | None] = mapped_column(Money)  # per pack, VAT included
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item = relationship("Item")
    category = relationship("Category")

    def status(self, today: date) -> PromotionStatus:
        if self.ended_at is not None or self.ends_on < today:
            return PromotionStatus.ENDED
        if self.starts_on > today:
            return PromotionStatus.PLANNED
        return PromotionStatus.ACTIVE

    def price_from(self, price: Decimal) -> Decimal:
        """The promotion's price for an item the organisation pays `price` for (never more)."""
        if self.fixed_price is not None:
            return min(price, self.fixed_price)
        return to_money(price * (Decimal(100) - self.discount_percent) / Decimal(100))


class Favourite(db.Model):
    __tablename__ = "catalog_favourites"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item")


class RecentlyViewed(db.Model):
    __tablename__ = "catalog_recently_viewed"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    item = relationship("Item")


class CertificateKind(enum.StrEnum):
    CERTIFICATE = "certificate"
    DECLARATION = "declaration"  # declaration of conformity

    @property
    def label(self):
        return {
            CertificateKind.CERTIFICATE: _l("Certificate of conformity"),
            CertificateKind.DECLARATION: _l("Declaration of conformity"),
        }[self]


class ItemCertificate(db.Model):
    """A certificate or declaration of conformity for an item, a PDF customers may download.

    The file lives under UPLOAD_DIR/catalog/ with a random name; only access-checked views
    send it.
    """

    __tablename__ = "catalog_item_certificates"
    # Also the index for "the certificates of an item": item_id leads it.
    __table_args__ = (UniqueConstraint("item_id", "kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(255))
    valid_until: Mapped[date] = mapped_column(Date)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item")
    uploaded_by = relationship("User")

    def is_expired(self, today: date) -> bool:
        return self.valid_until < today

    @property
    def kind_label(self):
        return CertificateKind(self.kind).label if self.kind in set(CertificateKind) else self.kind


# --- items' updated_at: what the API's `updated_since` reads ----------------------------------

_ITEM_PARTS = (Stock, Batch, ItemPrice, Promotion)


@event.listens_for(Session, "before_flush")
def _note_touched_items(session, _flush_context, _instances):
    touched = session.info.setdefault("touched_item_ids", set())
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, _ITEM_PARTS):
            item_id = row.item_id
            if item_id is None:
                item_id = getattr(getattr(row, "item", None), "id", None)
            if item_id is not None:
                touched.add(item_id)


@event.listens_for(Session, "after_flush")
def _touch_items_on_flush(session, _flush_context):
    touched = session.info.pop("touched_item_ids", None)
    if touched:
        table = Item.__table__
        session.connection().execute(
            table.update().where(table.c.id.in_(sorted(touched))).values(updated_at=utcnow())
        )
