"""Carts, orders with their lines and status history."""

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Money, Timestamped, UTCDateTime, utcnow
from portal.extensions import db


class OrderStatus(enum.StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    ASSEMBLING = "assembling"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self):
        """The status as the reader's language names it."""
        return {
            OrderStatus.NEW: _l("New"),
            OrderStatus.CONFIRMED: _l("Confirmed"),
            OrderStatus.ASSEMBLING: _l("Assembling"),
            OrderStatus.SHIPPED: _l("Shipped"),
            OrderStatus.DELIVERED: _l("Delivered"),
            OrderStatus.CANCELLED: _l("Cancelled"),
        }[self]


# Which status may follow which: staff move orders forward; cancelling is possible until shipped.
NEXT_STATUSES = {
    OrderStatus.NEW: (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.ASSEMBLING, OrderStatus.CANCELLED),
    OrderStatus.ASSEMBLING: (OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED,),
    OrderStatus.DELIVERED: (),
    OrderStatus.CANCELLED: (),
}
OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.ASSEMBLING)


class PaymentTerms(enum.StrEnum):
    PREPAYMENT = "prepayment"
    DEFERRED = "deferred"

    @property
    def label(self):
        return {
            PaymentTerms.PREPAYMENT: _l("Prepayment by invoice"),
            PaymentTerms.DEFERRED: _l("Deferred payment"),
        }[self]


class CartLine(db.Model):
    """One item in a user's cart for one organisation (the cart lives on the server)."""

    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", "item_id"),
        CheckConstraint("quantity > 0", name="cart_quantity_positive"),
        Index("ix_cart_lines_owner", "user_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item", lazy="joined")


class Order(Timestamped, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key"),
        Index("ix_orders_org_created", "organisation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set right after the insert from the id, so it is unique without a separate sequence.
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.NEW, index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("catalog_warehouses.id"))
    delivery_address: Mapped[str] = mapped_column(Text)
    delivery_date: Mapped[date] = mapped_column(Date)
    payment_terms: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    staff_note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    organisation = relationship("Organisation")
    user = relationship("User")
    warehouse = relationship("Warehouse")
    lines = relationship(
        "OrderLine", back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events = relationship(
        "OrderEvent", back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_label(self):
        return OrderStatus(self.status).label

    @property
    def payment_label(self):
        return PaymentTerms(self.payment_terms).label


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="order_quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"))
    # Copied at checkout: the order keeps what was ordered even if the catalogue changes.
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_quantity: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money)
    # The item's VAT category and its rate on the order's date (the invoice for payment);
    # a shipment taxes its lines at the rate of the shipment date (billing.shipments).
    vat_category: Mapped[str | None] = mapped_column(String(16))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    amount: Mapped[Decimal] = mapped_column(Money)

    order = relationship("Order", back_populates="lines")
    item = relationship("Item")

    @property
    def shipped_amount(self) -> Decimal:
        from portal.money import to_money

        shipped = self.quantity if self.shipped_quantity is None else self.shipped_quantity
        return to_money(self.price * shipped)


class OrderEvent(db.Model):
    """The status timeline: who moved the order to which status, when, with what note."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    order = relationship("Order", back_populates="events")
    user = relationship("User")

    @property
    def status_label(self):
        return OrderStatus(self.status).label
