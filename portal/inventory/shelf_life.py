"""The share of shelf life left of the batches in stock, and the items short of it.

A batch that knows when it was made has `(expires_on - today) / (expires_on - manufactured_on)`
of its shelf life left. An item is flagged when the batch it ships next (the earliest expiry
still in stock, first expired first out) has less than SHORT_SHELF_LIFE_SHARE left; items
whose batches do not know their date of manufacture are never flagged.
"""

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.inventory.models import Batch


@dataclass(frozen=True)
class ShelfLife:
    series: str
    expires_on: date
    share_left: float | None  # 0..1, None when the date of manufacture is unknown
    warehouse: str = ""
    packs: int | None = None

    @property
    def percent_left(self) -> int | None:
        return None if self.share_left is None else round(self.share_left * 100)


def share_left(expires_on: date, manufactured_on: date | None, today: date) -> float | None:
    if manufactured_on is None or expires_on <= manufactured_on:
        return None
    total = (expires_on - manufactured_on).days
    return max(0.0, min(1.0, (expires_on - today).days / total))


def threshold() -> float:
    return float(current_app.config.get("SHORT_SHELF_LIFE_SHARE", 0.5))


def in_stock(item_id: int, today: date | None = None) -> list[ShelfLife]:
    """The item's batches in stock and not expired, earliest expiry first (the item card)."""
    today = today or clock.local_today()
    batches = db.session.scalars(
        select(Batch)
        .where(Batch.item_id == item_id, Batch.quantity > 0, Batch.expires_on >= today)
        .order_by(Batch.expires_on, Batch.series, Batch.warehouse_id)
    ).all()
    return [
        ShelfLife(
            batch.series,
            batch.expires_on,
            share_left(batch.expires_on, batch.manufactured_on, today),
            warehouse=batch.warehouse.name,
            packs=batch.quantity,
        )
        for batch in batches
    ]


def short_items(item_ids, today: date | None = None) -> dict[int, ShelfLife]:
    """{item id: its next batch} for the items whose next batch has less than the configured
    share of shelf life left; one query per 900 items."""
    today = today or clock.local_today()
    limit = threshold()
    item_ids = sorted(set(item_ids))
    found: dict[int, ShelfLife] = {}
    for start in range(0, len(item_ids), 900):
        rows = db.session.execute(
            select(Batch.item_id, Batch.series, Batch.expires_on, Batch.manufactured_on)
            .where(
                Batch.item_id.in_(item_ids[start : start + 900]),
                Batch.quantity > 0,
                Batch.expires_on >= today,
            )
            .order_by(Batch.item_id, Batch.expires_on)
        )
        for item_id, series, expires_on, manufactured_on in rows:
            if item_id not in found:  # the first row of an item is its next batch
                share = share_left(expires_on, manufactured_on, today)
                found[item_id] = ShelfLife(series, expires_on, share)
    return {
        item_id: life
        for item_id, life in found.items()
        if life.share_left is not None and life.share_left < limit
    }
