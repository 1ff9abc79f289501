"""The catalogue with the organisation's own prices, for an ERP's sync (/api/v1/catalog).

Prices come from portal.catalog.pricing; stock, expiry and the serving warehouse from
portal.inventory (the rules the catalogue pages use). `updated_since` returns every item whose
`updated_at` is at or after the moment given (any change of the item, of its prices in any
price list, of its stock or batches, or of its promotions bumps it), every item whose
promotion started or ended since, and every item at all when the organisation's price terms
(price type, discount) changed since.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import marshmallow as ma
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, or_, select

from portal import clock
from portal.api.auth import requires
from portal.api.problems import Problem
from portal.api.schemas import DecimalString, StrictSchema
from portal.billing import tax
from portal.catalog import pricing
from portal.catalog.models import Item, OrganisationPricing, Promotion
from portal.database import utcnow
from portal.extensions import db
from portal.inventory.stock import nearest_expiries, stock_in
from portal.inventory.warehouses import serving_warehouse
from portal.organisations.models import PHARMACY_KINDS, Power

blp = Blueprint(
    "api_catalog",
    __name__,
    url_prefix="/api/v1/catalog",
    description="Items with the organisation's prices, stock and VAT; delta sync",
)

MAX_LIMIT = 500
MAX_CODES = 500


class ItemListQuery(StrictSchema):
    limit = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, at most {MAX_LIMIT}"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "`next_cursor` of the previous page"},
    )
    updated_since = ma.fields.AwareDateTime(
        default_timezone=UTC,
        metadata={
            "description": "Only items changed at or after this moment (ISO 8601; without an "
            "offset: UTC). Use `server_time` of the first page of the previous sync."
        },
    )


class PromotionSchema(ma.Schema):
    title = ma.fields.String(required=True)
    discount_percent = DecimalString(required=True)
    ends_on = ma.fields.Date(required=True)


class ItemSchema(ma.Schema):
    sku = ma.fields.String(required=True)
    ean = ma.fields.String(allow_none=True, required=True, metadata={"description": "EAN-13"})
    name = ma.fields.String(required=True, metadata={"description": "Full name with form"})
    trade_name = ma.fields.String(required=True)
    generic_name = ma.fields.String(allow_none=True, required=True)
    dosage_form = ma.fields.String(allow_none=True, required=True)
    strength = ma.fields.String(allow_none=True, required=True)
    pack_size = ma.fields.Integer(allow_none=True, required=True)
    manufacturer = ma.fields.String(allow_none=True, required=True)
    manufacturer_country = ma.fields.String(allow_none=True, required=True)
    category = ma.fields.String(allow_none=True, required=True)
    is_rx = ma.fields.Boolean(required=True)
    is_vital = ma.fields.Boolean(required=True, metadata={"description": "ЖНВЛП"})
    is_cold_chain = ma.fields.Boolean(required=True)
    vat_category = ma.fields.String(
        required=True, metadata={"enum": ["general", "reduced", "zero", "without"]}
    )
    vat_rate = DecimalString(allow_none=True, required=True, metadata={"description": "Today, %"})
    min_quantity = ma.fields.Integer(required=True)
    order_multiple = ma.fields.Integer(required=True)
    price = DecimalString(
        allow_none=True,
        required=True,
        metadata={"description": "The organisation's price per pack, VAT included, RUB"},
    )
    list_price = DecimalString(
        allow_none=True,
        required=True,
        metadata={"description": "Before the running promotion"},
    )
    promotion = ma.fields.Nested(PromotionSchema, allow_none=True, required=True)
    stock = ma.fields.Integer(
        required=True, metadata={"description": "Packs at the serving warehouse"}
    )
    nearest_expiry = ma.fields.Date(allow_none=True, required=True)
    active = ma.fields.Boolean(
        required=True, metadata={"description": "False: withdrawn (only in a delta sync)"}
    )
    updated_at = ma.fields.AwareDateTime(required=True)


class WarehouseSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ItemPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    next_cursor = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "null on the last page"}
    )
    warehouse = ma.fields.Nested(WarehouseSchema, allow_none=True, required=True)
    server_time = ma.fields.AwareDateTime(
        required=True, metadata={"description": "Keep the first page's: the next updated_since"}
    )


class LookupBody(StrictSchema):
    codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_CODES),
        metadata={"description": f"SKUs or EANs, at most {MAX_CODES}"},
    )


class LookupSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    not_found = ma.fields.List(ma.fields.String(), required=True)


def _organisation():
    organisation = g.membership.organisation
    if organisation.kind not in PHARMACY_KINDS:
        raise Problem(404, _l("The catalogue is open to pharmacies and medical institutions."))
    return organisation


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt="api.catalog.cursor")


def _read_cursor(text, since):
    try:
        updated_at, item_id, cursor_since = _serializer().loads(text)
        position = (datetime.fromisoformat(updated_at), int(item_id))
        cursor_since = datetime.fromisoformat(cursor_since) if cursor_since else None
    except (BadSignature, ValueError, TypeError):
        raise _cursor_problem(_l("The cursor is not one this API gave.")) from None
    if since is not None and since != cursor_since:
        raise _cursor_problem(_l("Repeat updated_since unchanged with the cursor, or omit it."))
    return position, cursor_since


def _cursor_problem(message):
    return Problem(
        422,
        _l("Correct the fields listed in «errors»."),
        errors=[{"location": "query", "field": "cursor", "message": str(message)}],
    )


def _terms_changed_since(organisation_id, since) -> bool:
    changed = db.session.scalar(
        select(OrganisationPricing.updated_at).where(
            OrganisationPricing.organisation_id == organisation_id
        )
    )
    return changed is not None and changed >= since


def _changed_since(since):
    """Items changed at or after `since`, and those whose promotion began or ended since."""
    today = pricing.today()
    since_day = since.astimezone(UTC).date() - timedelta(days=1)  # generous, never short
    promotion_moved = exists().where(
        or_(Promotion.item_id == Item.id, Promotion.category_id == Item.category_id),
        or_(
            and_(Promotion.starts_on >= since_day, Promotion.starts_on <= today),
            and_(Promotion.ends_on >= since_day, Promotion.ends_on < today),
        ),
    )
    return or_(Item.updated_at >= since, promotion_moved)


def item_payloads(organisation, items) -> list[dict]:
    """Items as the API shows them to this organisation (prices, stock, expiry, VAT)."""
    ids = [item.id for item in items]
    quotes = pricing.quotes_for(organisation.id, ids)
    warehouse = serving_warehouse(organisation)
    stock = stock_in(warehouse.id, ids) if warehouse else {}
    expiries = nearest_expiries(ids)
    rates = tax.rates_on(clock.local_today())
    payloads = []
    for item in items:
        quote = quotes.get(item.id)
        promotion = quote.promotion if quote else None
        payloads.append(
            {
                "sku": item.sku,
                "ean": item.barcode,
                "name": item.full_name,
                "trade_name": item.trade_name,
                "generic_name": item.generic_name,
                "dosage_form": item.dosage_form,
                "strength": item.strength,
                "pack_size": item.pack_size,
                "manufacturer": item.manufacturer.name if item.manufacturer else None,
                "manufacturer_country": item.manufacturer.country if item.manufacturer else None,
                "category": item.category.name if item.category else None,
                "is_rx": item.is_rx,
                "is_vital": item.is_vital,
                "is_cold_chain": item.is_cold_chain,
                "vat_category": item.vat_category,
                "vat_rate": rates.get(str(item.vat_category)),
                "min_quantity": item.min_quantity,
                "order_multiple": item.order_multiple,
                "price": quote.price if quote else None,
                "list_price": quote.list_price if quote else None,
                "promotion": (
                    {
                        "title": promotion.title,
                        "discount_percent": promotion.discount_percent
                        if promotion.discount_percent is not None
                        else Decimal(quote.percent_off or 0),
                        "ends_on": promotion.ends_on,
                    }
                    if promotion
                    else None
                ),
                "stock": stock.get(item.id, 0),
                "nearest_expiry": expiries.get(item.id),
                "active": item.is_active,
                "updated_at": item.updated_at,
            }
        )
    return payloads


def _warehouse(organisation):
    warehouse = serving_warehouse(organisation)
    return {"code": warehouse.code, "name": warehouse.name} if warehouse else None


@blp.route("/items")
@requires(Power.VIEW_PRICES)
@blp.etag
@blp.arguments(ItemListQuery, location="query", unknown=ma.RAISE, as_kwargs=True)
@blp.response(200, ItemPageSchema)
def list_items(limit=100, cursor=None, updated_since=None):
    """Items with the organisation's prices, a page at a time.

    In (updated_at, id) order: follow `next_cursor` to the end. Without `updated_since`:
    every active item. With it: the changes since (withdrawn items too, with
    `active: false`). `ETag`/`If-None-Match`: an unchanged page answers 304.
    """
    organisation = _organisation()
    server_time = utcnow()
    position = None
    if cursor:
        position, updated_since = _read_cursor(cursor, updated_since)
    statement = select(Item)
    if updated_since is None:
        statement = statement.where(Item.is_active.is_(True))
    elif not _terms_changed_since(organisation.id, updated_since):
        statement = statement.where(_changed_since(updated_since))
    if position is not None:
        statement = statement.where(
            or_(
                Item.updated_at > position[0],
                and_(Item.updated_at == position[0], Item.id > position[1]),
            )
        )
    rows = db.session.scalars(statement.order_by(Item.updated_at, Item.id).limit(limit + 1)).all()
    items, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = _serializer().dumps(
            [
                last.updated_at.isoformat(),
                last.id,
                updated_since.isoformat() if updated_since else None,
            ]
        )
    page = {
        "items": item_payloads(organisation, items),
        "next_cursor": next_cursor,
        "warehouse": _warehouse(organisation),
    }
    blp.set_etag(page, ItemPageSchema(exclude=("server_time",)))
    return {**page, "server_time": server_time}


@blp.route("/items/<string:sku>")
@requires(Power.VIEW_PRICES)
@blp.etag
@blp.response(200, ItemSchema)
def show_item(sku):
    """One item by its SKU.

    Withdrawn items too, with `active: false`."""
    organisation = _organisation()
    item = None
    if "\x00" not in sku:  # PostgreSQL refuses NUL in text; no SKU has one
        item = db.session.scalar(select(Item).where(Item.sku == sku[:32]))
    if item is None:
        raise Problem(404, _l("There is no item with this SKU."))
    return item_payloads(organisation, [item])[0]


@blp.route("/items/lookup", methods=["POST"])
@requires(Power.VIEW_PRICES)
@blp.arguments(LookupBody, as_kwargs=True)
@blp.response(200, LookupSchema)
def lookup_items(codes):
    """Match the ERP's codes (SKUs or EANs) to items.

    Unknown codes are listed in `not_found`; an EAN shared by several items returns them all."""
    organisation = _organisation()
    wanted = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    rows = db.session.scalars(
        select(Item).where(or_(Item.sku.in_(wanted), Item.barcode.in_(wanted))).order_by(Item.sku)
    ).all()
    found = {item.sku for item in rows} | {item.barcode for item in rows if item.barcode}
    return {
        "items": item_payloads(organisation, rows),
        "not_found": [code for code in wanted if code not in found],
    }
