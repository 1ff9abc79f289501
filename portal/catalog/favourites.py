"""A buyer's favourites and the items they viewed last."""

import functools

from sqlalchemy import Integer, bindparam, delete, select

from portal.catalog.models import Favourite, Item, RecentlyViewed, full_item_name
from portal.collation import ordered
from portal.database import utcnow
from portal.extensions import db

RECENTLY_VIEWED_KEPT = 20


def toggle_favourite(user_id, organisation_id, item_id) -> bool:
    """Add the item to favourites or remove it; returns whether it is a favourite now."""
    existing = db.session.scalar(
        select(Favourite).where(
            Favourite.user_id == user_id,
            Favourite.organisation_id == organisation_id,
            Favourite.item_id == item_id,
        )
    )
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        return False
    db.session.add(Favourite(user_id=user_id, organisation_id=organisation_id, item_id=item_id))
    db.session.flush()
    return True


def favourite_ids(user_id, organisation_id, item_ids) -> set[int]:
    """Which of the given items the user keeps in favourites."""
    if not item_ids:
        return set()
    return set(
        db.session.scalars(
            select(Favourite.item_id).where(
                Favourite.user_id == user_id,
                Favourite.organisation_id == organisation_id,
                Favourite.item_id.in_(list(item_ids)),
            )
        )
    )


def favourite_item_ids(user_id, organisation_id) -> list[int]:
    """The user's favourite items in this organisation, by name."""
    return db.session.scalars(
        select(Item.id)
        .join(Favourite, Favourite.item_id == Item.id)
        .where(Favourite.user_id == user_id, Favourite.organisation_id == organisation_id)
        .order_by(ordered(Item.trade_name), Item.id)
    ).all()


def record_view(user_id, organisation_id, item_id) -> None:
    """Remember the item as viewed now, keeping only the latest few per user."""
    seen = db.session.scalar(
        select(RecentlyViewed).where(
            RecentlyViewed.user_id == user_id,
            RecentlyViewed.organisation_id == organisation_id,
            RecentlyViewed.item_id == item_id,
        )
    )
    if seen is None:
        db.session.add(
            RecentlyViewed(user_id=user_id, organisation_id=organisation_id, item_id=item_id)
        )
    else:
        seen.viewed_at = utcnow()
    db.session.flush()
    keep = (
        select(RecentlyViewed.id)
        .where(RecentlyViewed.user_id == user_id, RecentlyViewed.organisation_id == organisation_id)
        .order_by(RecentlyViewed.viewed_at.desc(), RecentlyViewed.id.desc())
        .limit(RECENTLY_VIEWED_KEPT)
    )
    kept = [row for row in db.session.scalars(keep)]
    db.session.execute(
        delete(RecentlyViewed).where(
            RecentlyViewed.user_id == user_id,
            RecentlyViewed.organisation_id == organisation_id,
            RecentlyViewed.id.not_in(kept),
        )
    )


def recently_viewed(user_id, organisation_id, limit=8):
    """(id, full name) of the items the user opened last, newest first."""
    rows = db.session.execute(
        _recently_viewed_statement(),
        {"user_id": user_id, "organisation_id": organisation_id, "limit": limit},
    )
    return [(row[0], full_item_name(*row[1:])) for row in rows]


@functools.cache
def _recently_viewed_statement():
    return (
        select(Item.id, Item.trade_name, Item.dosage_form, Item.strength, Item.pack_size)
        .join(RecentlyViewed, RecentlyViewed.item_id == Item.id)
        .where(
            RecentlyViewed.user_id == bindparam("user_id"),
            RecentlyViewed.organisation_id == bindparam("organisation_id"),
        )
        .order_by(RecentlyViewed.viewed_at.desc(), RecentlyViewed.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
