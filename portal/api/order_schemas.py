"""The request and response documents of the orders API (portal/api/orders.py)."""

from datetime import UTC

import marshmallow as ma
from flask_babel import gettext as _

from portal.api.schemas import DecimalString, StrictSchema
from portal.orders.models import OrderStatus, PaymentTerms

MAX_PAGE = 100  # orders a page of the list holds at most


class LineIn(StrictSchema):
    sku = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    ean = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32), metadata={"description": "EAN-13"}
    )
    quantity = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=1_000_000)
    )

    @ma.validates_schema
    def one_code(self, data, **_kwargs):
        if ("sku" in data) == ("ean" in data):
            raise ma.ValidationError(_("Give either «sku» or «ean» for the line."), "sku")


class OrderIn(StrictSchema):
    lines = ma.fields.List(
        ma.fields.Nested(LineIn),
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={"description": "At most API_ORDER_MAX_LINES (5,000) lines"},
    )
    payment_terms = ma.fields.String(
        required=True, validate=ma.validate.OneOf([t.value for t in PaymentTerms])
    )
    address_id = ma.fields.Integer(
        strict=True,
        metadata={"description": "One of the organisation's delivery addresses; else default"},
    )
    comment = ma.fields.String(validate=ma.validate.Length(max=1000))
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "Validate and price only; nothing placed"}
    )


class DryRunQuery(StrictSchema):
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "Same as the body's dry_run"}
    )


class VatRateSchema(ma.Schema):
    rate = DecimalString(required=True, metadata={"description": "%"})
    vat = DecimalString(required=True)


class QuotePromotionSchema(ma.Schema):
    title = ma.fields.String(required=True)
    discount_percent = DecimalString(required=True)


class QuoteLineSchema(ma.Schema):
    index = ma.fields.Integer(required=True, metadata={"description": "The line's place in lines"})
    sku = ma.fields.String(required=True)
    ean = ma.fields.String(allow_none=True, required=True)
    name = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    price = DecimalString(allow_none=True, required=True, metadata={"description": "VAT incl."})
    amount = DecimalString(allow_none=True, required=True)
    vat_rate = DecimalString(allow_none=True, required=True)
    promotion = ma.fields.Nested(QuotePromotionSchema, allow_none=True, required=True)


class QuoteSchema(ma.Schema):
    dry_run = ma.fields.Boolean(required=True)
    lines = ma.fields.List(ma.fields.Nested(QuoteLineSchema), required=True)
    total = DecimalString(allow_none=True, required=True)
    vat_total = DecimalString(allow_none=True, required=True)
    vat_by_rate = ma.fields.List(ma.fields.Nested(VatRateSchema), required=True)
    payment_terms = ma.fields.String(required=True)
    delivery_address = ma.fields.String(required=True)
    delivery_date = ma.fields.Date(required=True)
    warehouse = ma.fields.String(required=True)


class OrderLineSchema(ma.Schema):
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    shipped_quantity = ma.fields.Integer(allow_none=True, required=True)
    price = DecimalString(allow_none=True, required=True)
    vat_rate = DecimalString(allow_none=True, required=True)
    amount = DecimalString(allow_none=True, required=True)


class EventSchema(ma.Schema):
    status = ma.fields.String(required=True)
    at = ma.fields.AwareDateTime(required=True)
    note = ma.fields.String(allow_none=True, required=True)


STATUS_ENUM = {"enum": [s.value for s in OrderStatus]}


class OrderSummarySchema(ma.Schema):
    number = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata=STATUS_ENUM)
    status_label = ma.fields.String(required=True)
    placed_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True, metadata={"description": "Last event"})
    payment_terms = ma.fields.String(required=True)
    delivery_date = ma.fields.Date(required=True)
    total = DecimalString(allow_none=True, required=True, metadata={"description": "VAT incl."})
    lines_count = ma.fields.Integer(required=True)


class OrderSchema(OrderSummarySchema):
    delivery_address = ma.fields.String(required=True)
    comment = ma.fields.String(allow_none=True, required=True)
    warehouse = ma.fields.String(required=True)
    vat_total = DecimalString(allow_none=True, required=True)
    vat_by_rate = ma.fields.List(ma.fields.Nested(VatRateSchema), required=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema), required=True)
    timeline = ma.fields.List(ma.fields.Nested(EventSchema), required=True)


class OrderListQuery(StrictSchema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    cursor = ma.fields.String(validate=ma.validate.Length(max=200))
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in OrderStatus]))
    updated_since = ma.fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "Only orders with a status event at or after this moment"},
    )


class OrderPageSchema(ma.Schema):
    orders = ma.fields.List(ma.fields.Nested(OrderSummarySchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
    server_time = ma.fields.AwareDateTime(required=True)
