"""Prices: an organisation's terms (price type, discount), the running promotions, and the
one pricing rule (`price_of`) the cart, checkout, every listing and the price list use."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import g, has_request_context
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.catalog.models import Item, ItemPrice, OrganisationPricing, PriceList, Promotion
from portal.extensions import db
from portal.money import to_money


def today() -> date:
    return date.today()


@dataclass(frozen=True)
class Terms:
    """How an organisation is priced: its price list (None = base) and its discount."""

    base_list_id: int | None
    price_list_id: int | None
    discount_percent: Decimal


@dataclass(frozen=True)
class Quote:
    price: Decimal  # what the organisation pays per pack, VAT included
    list_price: Decimal  # before the promotion
    promotion: Promotion | None = None

    @property
    def percent_off(self) -> int | None:
        return percent_off(self.price, self.list_price) if self.promotion else None


def terms_for(organisation_id) -> Terms:
    """The organisation's price terms, read in one query and remembered for the request."""
    remembered = g.setdefault("price_terms", {}) if has_request_context() else {}
    if organisation_id not in remembered:

        def own(column):
            return (
                select(column)
                .where(OrganisationPricing.organisation_id == organisation_id)
                .scalar_subquery()
            )

        base_id, list_id, discount = db.session.execute(
            select(
                select(PriceList.id)
                .where(PriceList.is_base.is_(True))
                .order_by(PriceList.id)
                .limit(1)
                .scalar_subquery(),
                own(OrganisationPricing.price_list_id),
                own(OrganisationPricing.discount_percent),
            )
        ).one()
        remembered[organisation_id] = Terms(
            base_list_id=base_id,
            price_list_id=list_id,
            discount_percent=Decimal(discount) if discount is not None else Decimal("0"),
        )
    return remembered[organisation_id]


def _discounted(price: Decimal, percent: Decimal) -> Decimal:
    return to_money(price * (Decimal(100) - Decimal(percent)) / Decimal(100))


def _running(on: date):
    return (
        Promotion.ended_at.is_(None),
        Promotion.starts_on <= on,
        Promotion.ends_on >= on,
    )


def running_promotions_for(item_ids, on: date | None = None) -> dict[int, list[Promotion]]:
    """The promotions running on `on` per item: its own and its category's (ended, expired
    and future ones never apply). One query (per 900 items), whatever the number of items:
    every catalogue page with prices asks."""
    on = on or today()
    item_ids = list(set(item_ids))
    found: dict[int, list[Promotion]] = {}
    for start in range(0, len(item_ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = item_ids[start : start + 900]
        rows = db.session.execute(
            select(Item.id, Promotion)
            .join(
                Promotion,
                or_(
                    Promotion.item_id == Item.id,
                    and_(Item.category_id.is_not(None), Promotion.category_id == Item.category_id),
                ),
            )
            .where(Item.id.in_(chunk), *_running(on))
            .order_by(Item.id, Promotion.item_id.is_(None), Promotion.id)
        )
        for item_id, promotion in rows:
            found.setdefault(item_id, []).append(promotion)
    return found


def best_promotion(price: Decimal, promotions) -> tuple[Decimal, Promotion | None]:
    """(price to pay, the promotion giving it): the lowest of the running promotions' prices,
    or the price itself when none lowers it."""
    best, chosen = price, None
    for promotion in promotions or ():
        offered = promotion.price_from(price)
        if offered < best or (offered == best and chosen is not None and promotion.id < chosen.id):
            best, chosen = offered, promotion
    return best, chosen


def quotes_for(organisation_id, item_ids, on: date | None = None) -> dict[int, Quote]:
    """The organisation's price per item: its price type (else base) less its discount;
    a running promotion lowers it further. Items without any price are left out."""
    item_ids = list(set(item_ids))
    if not item_ids:
        return {}
    terms = terms_for(organisation_id)
    list_ids = [i for i in (terms.price_list_id, terms.base_list_id) if i is not None]
    prices: dict[int, dict[int, Decimal]] = {}
    for start in range(0, len(item_ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = item_ids[start : start + 900]
        rows = db.session.execute(
            select(ItemPrice.item_id, ItemPrice.price_list_id, ItemPrice.price).where(
                ItemPrice.item_id.in_(chunk), ItemPrice.price_list_id.in_(list_ids)
            )
        )
        for item_id, list_id, price in rows:
            prices.setdefault(item_id, {})[list_id] = price
    promotions = running_promotions_for(list(prices), on)
    quotes = {}
    for item_id, by_list in prices.items():
        priced = price_of(
            by_list.get(terms.price_list_id),
            by_list.get(terms.base_list_id),
            terms.discount_percent,
            promotions.get(item_id),
        )
        if priced is not None:
            final, price, promotion = priced
            quotes[item_id] = Quote(price=final, list_price=price, promotion=promotion)
    return quotes


def price_of(own, base, discount_percent, promotions=None):
    """(price to pay, price before the promotion, the promotion applied) from the
    organisation's own list price (else the base one), less its discount, then the best of
    the running promotions (a percentage off or a fixed price); None without a price.
    The one pricing rule: the cart, checkout, every listing and the price list use it."""
    listed = own or base
    if listed is None:
        return None
    price = _discounted(listed, discount_percent or Decimal("0"))
    final, promotion = best_promotion(price, promotions)
    return final, price, promotion


def percent_off(price: Decimal | None, list_price: Decimal | None) -> int | None:
    """How much a promotion takes off, in whole per cent, for the badge («−15 %»)."""
    if price is None or not list_price or price >= list_price:
        return None
    return max(1, int((Decimal(100) * (list_price - price) / list_price).to_integral_value()))


def active_promotions(limit=None, on: date | None = None):
    """Running promotions for the buyer's promotions page and panel, soonest ending first."""
    on = on or today()
    query = (
        select(Promotion)
        .outerjoin(Item, Item.id == Promotion.item_id)
        .options(contains_eager(Promotion.item), joinedload(Promotion.category))
        .where(*_running(on), or_(Promotion.category_id.isnot(None), Item.is_active.is_(True)))
        .order_by(Promotion.ends_on, Promotion.id)
    )
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def running_promotions_for_all(on: date | None = None) -> dict[int, list[Promotion]]:
    """The running promotions per item across the catalogue (for the price list)."""
    on = on or today()
    found: dict[int, list[Promotion]] = {}
    running = db.session.scalars(select(Promotion).where(*_running(on))).all()
    by_category: dict[int, list[Promotion]] = {}
    for promotion in running:
        if promotion.item_id is not None:
            found.setdefault(promotion.item_id, []).append(promotion)
        else:
            by_category.setdefault(promotion.category_id, []).append(promotion)
    if by_category:
        for item_id, category_id in db.session.execute(
            select(Item.id, Item.category_id).where(Item.category_id.in_(list(by_category)))
        ):
            found.setdefault(item_id, []).extend(by_category[category_id])
    return found
