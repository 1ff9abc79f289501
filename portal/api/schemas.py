"""marshmallow schemas shared by the API resources (unknown fields are refused: RAISE)."""

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import RAISE


class DecimalString(ma.fields.Decimal):
    """A decimal sent as a string ("123.45"): exact, unlike a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictSchema(ma.Schema):
    """Unknown fields are refused; so is a NUL character anywhere (PostgreSQL cannot store
    one, and no honest client sends it)."""

    class Meta:
        unknown = RAISE
        ordered = True

    @ma.pre_load
    def refuse_nul(self, data, **_kwargs):
        if isinstance(data, dict):
            bad = {key: v for key, v in data.items() if _has_nul(key) or _has_nul(v)}
            if bad:
                message = _("The request contains a NUL character, which is not allowed.")
                raise ma.ValidationError({str(key).replace("\x00", ""): [message] for key in bad})
        return data


class FieldErrorSchema(ma.Schema):
    location = ma.fields.String(
        metadata={"description": "Where: query, json, path, headers"}, required=True
    )
    field = ma.fields.String(
        metadata={"description": "The field (a dotted path: lines.3.quantity)"}, required=True
    )
    message = ma.fields.String(required=True)
    # Only in an order's per-line problems (portal.api.orders):
    index = ma.fields.Integer(metadata={"description": "The line's place in «lines» (from 0)"})
    sku = ma.fields.String(allow_none=True, metadata={"description": "The line's SKU or EAN"})
    code = ma.fields.String(
        metadata={
            "description": "unknown_code, below_minimum, not_multiple, out_of_stock, "
            "insufficient_stock, no_price, withdrawn, no_vat_rate"
        }
    )


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "URI of the problem type"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.List(
        ma.fields.Nested(FieldErrorSchema), metadata={"description": "One entry per field"}
    )


# Row ids are PostgreSQL integers: a larger number names nothing (and must not reach a query).
MAX_ID = 2**31 - 1
ID_RANGE = ma.validate.Range(min=1, max=MAX_ID)
