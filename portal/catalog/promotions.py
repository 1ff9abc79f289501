"""Promotions as staff create, edit and end them (the buyer's prices follow at once).

A promotion is on one item or on every item of a category, a percentage off (more than 0,
less than 100) or a fixed price per pack, between two dates inclusive. Two promotions on the
same item (or the same category) may not overlap in time: UserError names the field and
nothing is saved. Where an item's own promotion and its category's both run, the buyer pays
the lower price (catalog.pricing.best_promotion). Every change is audited with before/after.
"""

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import audit, caching
from portal.catalog.models import Category, Item, Promotion, PromotionStatus
from portal.catalog.pricing import today
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import local_date, money

MAX_PRICE = Decimal("999999999999.99")


def all_promotions(status: str | None = None, on: date | None = None) -> list[Promotion]:
    on = on or today()
    query = (
        select(Promotion)
        .options(joinedload(Promotion.item), joinedload(Promotion.category))
        .order_by(Promotion.starts_on.desc(), Promotion.id.desc())
    )
    if status == PromotionStatus.ACTIVE:
        query = query.where(
            Promotion.ended_at.is_(None), Promotion.starts_on <= on, Promotion.ends_on >= on
        )
    elif status == PromotionStatus.PLANNED:
        query = query.where(Promotion.ended_at.is_(None), Promotion.starts_on > on)
    elif status == PromotionStatus.ENDED:
        query = query.where((Promotion.ended_at.isnot(None)) | (Promotion.ends_on < on))
    return db.session.scalars(query.limit(500)).all()


def in_words(promotion: Promotion) -> dict:
    """The promotion as the audit log shows it."""
    if promotion.item_id:
        item = promotion.item or db.session.get(Item, promotion.item_id)
        target = f"{item.sku} {item.full_name}"
    else:
        category = promotion.category or db.session.get(Category, promotion.category_id)
        target = str(_l("category «%(name)s»", name=category.name))
    if promotion.fixed_price is not None:
        offer = str(_l("price %(price)s", price=money(promotion.fixed_price)))
    else:
        offer = f"−{promotion.discount_percent.normalize():f}\u00a0%".replace(".", ",")
    return {
        "title": promotion.title,
        "applies_to": target,
        "offer": offer,
        "period": f"{local_date(promotion.starts_on)} – {local_date(promotion.ends_on)}",
    }


def _overlapping(item_id, category_id, starts_on, ends_on, exclude_id=None):
    query = select(Promotion).where(
        Promotion.ended_at.is_(None),
        Promotion.starts_on <= ends_on,
        Promotion.ends_on >= starts_on,
    )
    if item_id is not None:
        query = query.where(Promotion.item_id == item_id)
    else:
        query = query.where(Promotion.category_id == category_id)
    if exclude_id is not None:
        query = query.where(Promotion.id != exclude_id)
    return db.session.scalars(query.order_by(Promotion.starts_on).limit(1)).first()


def _resolve(values: dict):
    """(item_id, category_id, percent, price) from the form's values, or UserError."""
    title = (values.get("title") or "").strip()
    if not title:
        raise UserError(_l("Enter the promotion's title."), "title")
    item_id = category_id = None
    if values.get("target") == "category":
        category_id = values.get("category_id") or None
        if category_id is None or db.session.get(Category, category_id) is None:
            raise UserError(_l("Choose the category."), "category_id")
    else:
        sku = (values.get("item_sku") or "").strip()
        item = db.session.scalar(select(Item).where(Item.sku == sku)) if sku else None
        if item is None:
            raise UserError(
                _l("Enter the code of an item in the catalogue.")
                if not sku
                else _l("No item has the code «%(sku)s».", sku=sku),
                "item_sku",
            )
        item_id = item.id
    percent = price = None
    if values.get("kind") == "price":
        price = values.get("fixed_price")
        if price is None:
            raise UserError(_l("Enter the price per pack."), "fixed_price")
        if price <= 0 or price > MAX_PRICE or price.as_tuple().exponent < -2:
            raise UserError(
                _l("The price is more than zero, in roubles and kopecks."), "fixed_price"
            )
    else:
        percent = values.get("discount_percent")
        if percent is None:
            raise UserError(_l("Enter the discount in per cent."), "discount_percent")
        if percent <= 0 or percent >= 100 or percent.as_tuple().exponent < -2:
            raise UserError(
                _l("The discount is more than 0 and less than 100 %."), "discount_percent"
            )
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on")
    if starts_on is None:
        raise UserError(_l("Enter the first day."), "starts_on")
    if ends_on is None:
        raise UserError(_l("Enter the last day."), "ends_on")
    if ends_on < starts_on:
        raise UserError(_l("The last day cannot be before the first."), "ends_on")
    return title, item_id, category_id, percent, price, starts_on, ends_on


def _refuse_overlap(item_id, category_id, starts_on, ends_on, exclude_id=None):
    clash = _overlapping(item_id, category_id, starts_on, ends_on, exclude_id)
    if clash is not None:
        message = (
            _l(
                "«%(title)s» already runs for this item from %(start)s to %(end)s; "
                "change the dates or end that promotion first.",
                title=clash.title,
                start=local_date(clash.starts_on),
                end=local_date(clash.ends_on),
            )
            if item_id is not None
            else _l(
                "«%(title)s» already runs for this category from %(start)s to %(end)s; "
                "change the dates or end that promotion first.",
                title=clash.title,
                start=local_date(clash.starts_on),
                end=local_date(clash.ends_on),
            )
        )
        raise UserError(message, "starts_on")


def _forget() -> None:
    # «On promotion» search answers are cached per day (catalog.search): ask afresh.
    caching.forget_catalogue()


def create_promotion(values: dict, *, actor=None) -> Promotion:
    title, item_id, category_id, percent, price, starts_on, ends_on = _resolve(values)
    _refuse_overlap(item_id, category_id, starts_on, ends_on)
    promotion = Promotion(
        title=title,
        item_id=item_id,
        category_id=category_id,
        discount_percent=percent,
        fixed_price=price,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(promotion)
    db.session.flush()
    audit.record("promotion.created", actor=actor, target=promotion, after=in_words(promotion))
    _forget()
    return promotion


def edit_promotion(promotion: Promotion, values: dict, *, actor=None) -> None:
    if promotion.status(today()) == PromotionStatus.ENDED:
        raise UserError(_l("An ended promotion cannot be changed."), "title")
    title, item_id, category_id, percent, price, starts_on, ends_on = _resolve(values)
    _refuse_overlap(item_id, category_id, starts_on, ends_on, exclude_id=promotion.id)
    before = in_words(promotion)
    promotion.title = title
    promotion.item_id, promotion.category_id = item_id, category_id
    promotion.discount_percent, promotion.fixed_price = percent, price
    promotion.starts_on, promotion.ends_on = starts_on, ends_on
    db.session.flush()
    db.session.refresh(promotion, ["item", "category"])
    after = in_words(promotion)
    changed = [key for key in after if before[key] != after[key]]
    if changed:
        audit.record(
            "promotion.changed",
            actor=actor,
            target=promotion,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    _forget()


def end_promotion(promotion: Promotion, *, actor=None) -> None:
    """It stops applying at once; it stays in the list as ended."""
    if promotion.ended_at is not None:
        return
    promotion.ended_at = utcnow()
    db.session.flush()
    audit.record("promotion.ended", actor=actor, target=promotion, before=in_words(promotion))
    _forget()
