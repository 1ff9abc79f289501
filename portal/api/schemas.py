"""marshmallow schemas shared by the API resources (unknown fields are refused: RAISE)."""

import marshmallow as ma
from marshmallow import RAISE


class DecimalString(ma.fields.Decimal):
    """A decimal sent as a string ("123.45"): exact, unlike a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class FieldErrorSchema(ma.Schema):
    location = ma.fields.String(
        metadata={"description": "Where: query, json, path, headers"}, required=True
    )
    field = ma.fields.String(
        metadata={"description": "The field (a dotted path: lines.3.quantity)"}, required=True
    )
    message = ma.fields.String(required=True)


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
