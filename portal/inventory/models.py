"""Warehouses and what they hold: stock per item, and batches with their expiry dates.

The table names are the catalogue's of old (`catalog_warehouses`, `catalog_stock`,
`catalog_batches`): the rows moved to this package, not the data.
"""

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class Warehouse(db.Model):
    """A warehouse serving a region; its lead time sets the earliest delivery date."""

    __tablename__ = "catalog_warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(120), index=True)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=1)
    # Serves every region without a warehouse of its own.
    is_central: Mapped[bool] = mapped_column(Boolean, default=False)


class Stock(db.Model):
    """Packs available to order in one warehouse; checkout decrements it atomically."""

    __tablename__ = "catalog_stock"
    __table_args__ = (
        UniqueConstraint("item_id", "warehouse_id"),
        CheckConstraint("quantity >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("catalog_warehouses.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    item = relationship("Item", back_populates="stock")
    warehouse = relationship("Warehouse", lazy="joined")


class Batch(db.Model):
    __tablename__ = "catalog_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("catalog_warehouses.id"))
    series: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)
    # When the series was made: with the expiry it gives the share of shelf life left
    # (portal.inventory.shelf_life); unknown for batches loaded before it was kept.
    manufactured_on: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    item = relationship("Item", back_populates="batches")
    warehouse = relationship("Warehouse", lazy="joined")
