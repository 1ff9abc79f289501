"""Stock: packs per item and warehouse, taken off the shelf for an order and put back, and the
batches' expiry dates.

Bulk UPDATEs the ORM does not see are announced to the listeners of `on_stock_moved` (the
catalogue bumps the items' `updated_at`, which the API's delta sync reads); inventory itself
imports nothing from the catalogue.
"""

from datetime import date

from sqlalchemy import case, func, select, update

from portal.extensions import db
from portal.inventory.models import Batch, Stock

_stock_moved_listeners = []


def on_stock_moved(listener):
    """Register `listener(item_ids)`, called after a bulk stock move (a decorator)."""
    _stock_moved_listeners.append(listener)
    return listener


def _moved(item_ids) -> None:
    for listener in _stock_moved_listeners:
        listener(item_ids)


def stock_in(warehouse_id, item_ids) -> dict[int, int]:
    """Packs of each item in the warehouse (items without a stock row are left out)."""
    if not item_ids:
        return {}
    found = {}
    item_ids = list(set(item_ids))
    for start in range(0, len(item_ids), 900):
        rows = db.session.execute(
            select(Stock.item_id, Stock.quantity).where(
                Stock.warehouse_id == warehouse_id, Stock.item_id.in_(item_ids[start : start + 900])
            )
        )
        found.update(dict(rows.all()))
    return found


def reserve_stock(warehouse_id, item_id, quantity) -> bool:
    """Take packs off the shelf in one atomic UPDATE: False when there are not enough."""
    result = db.session.execute(
        update(Stock)
        .where(
            Stock.warehouse_id == warehouse_id,
            Stock.item_id == item_id,
            Stock.quantity >= quantity,
        )
        .values(quantity=Stock.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        _moved([item_id])
        return True
    return False


def reserve_stock_many(warehouse_id, wanted: dict[int, int]) -> list[int]:
    """Take packs of many items off the shelf at once (an order's lines): the stock rows are
    locked in item order (as reserve_stock line by line would), checked, then decremented in
    a few UPDATEs. Returns the items without enough stock ([] when all were taken); on a
    refusal the caller refuses the request (its transaction is rolled back)."""
    ids = sorted(wanted)
    short: list[int] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = db.session.execute(
            select(Stock.item_id, Stock.quantity)
            .where(Stock.warehouse_id == warehouse_id, Stock.item_id.in_(chunk))
            .order_by(Stock.item_id)
            .with_for_update()
        ).all()
        have = dict(rows)
        short += [i for i in chunk if have.get(i, 0) < wanted[i]]
    if short:
        return short
    for start in range(0, len(ids), 150):  # 5 bound values an item: under SQLite's 999
        chunk = ids[start : start + 150]
        amount = case({i: wanted[i] for i in chunk}, value=Stock.item_id)
        result = db.session.execute(
            update(Stock)
            .where(
                Stock.warehouse_id == warehouse_id,
                Stock.item_id.in_(chunk),
                Stock.quantity >= amount,
            )
            .values(quantity=Stock.quantity - amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):  # taken meanwhile (SQLite has no row locks)
            return chunk[:1]
    for start in range(0, len(ids), 900):
        _moved(ids[start : start + 900])
    return []


def release_stock(warehouse_id, item_id, quantity) -> None:
    """Put packs back (a cancelled order); creates the stock row if it vanished meanwhile."""
    result = db.session.execute(
        update(Stock)
        .where(Stock.warehouse_id == warehouse_id, Stock.item_id == item_id)
        .values(quantity=Stock.quantity + quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        db.session.add(Stock(warehouse_id=warehouse_id, item_id=item_id, quantity=quantity))
        db.session.flush()
    else:
        _moved([item_id])


def nearest_expiry(item_id, today: date | None = None) -> date | None:
    return nearest_expiries([item_id], today).get(item_id)


def nearest_expiries(item_ids, today: date | None = None) -> dict[int, date]:
    """The earliest expiry date of each item's batches still in stock and not expired on
    `today` (default: today; an item without such a batch is left out): one query per 900 items."""
    found = {}
    today = today or date.today()
    item_ids = list(set(item_ids))
    for start in range(0, len(item_ids), 900):
        rows = db.session.execute(
            select(Batch.item_id, func.min(Batch.expires_on))
            .where(
                Batch.item_id.in_(item_ids[start : start + 900]),
                Batch.quantity > 0,
                Batch.expires_on >= today,
            )
            .group_by(Batch.item_id)
        )
        found.update(dict(rows.all()))
    return found
