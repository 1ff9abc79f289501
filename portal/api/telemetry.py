"""Telemetry: hourly and daily consumption series per meter (/api/v1, portal.metering.telemetry).

Idempotent by meter, granularity and interval start: a repeated point replaces the stored
value, or is counted `unchanged` when it is the same. Every point is checked first; one
refused point refuses the request (422, each error named `series.<i>.points.<j>.<field>`)
and nothing is stored.
"""

from datetime import datetime
from decimal import Decimal

import marshmallow as ma
from flask import g
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import select

from portal.api.auth import requires
from portal.api.problems import Problem
from portal.api.schemas import ID_RANGE, MAX_ID, DecimalString, StrictSchema
from portal.extensions import db
from portal.metering import telemetry
from portal.metering.models import MeteringPoint, TelemetryGranularity
from portal.metering.readings import active_meters_of
from portal.organisations.models import Power

blp = Blueprint(
    "api_telemetry",
    __name__,
    url_prefix="/api/v1",
    description="Hourly and daily consumption series per meter (bulk, idempotent)",
)

MAX_POINTS = 50_000  # in one request (the body limit, 1 MiB by default, comes first)
MAX_SERIES = 1000


class Nested(ma.Schema):
    """Unknown fields refused; the NUL check is the enclosing StrictSchema's (it walks the
    whole body once: per point again, it was a tenth of a 10,000-point request)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class PointSchema(Nested):
    at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "Start of the interval, ISO 8601 with its offset, a whole hour",
            "example": "2026-12-01T10:00:00+03:00",
        },
    )
    volume = DecimalString(
        required=True, metadata={"description": "m³ passed in the interval", "example": "12.345"}
    )
    counter_value = DecimalString(
        allow_none=True,
        metadata={"description": "The meter's index at the interval's end, m³ (optional)"},
    )


POINT_FIELDS = frozenset({"at", "volume", "counter_value"})


def _decimal(value):
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(value)
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(value)
    return number


class PointField(ma.fields.Nested):
    """A point, read directly when it is well formed (a schema per point was most of a
    10,000-point request's time); anything unusual goes through PointSchema for its errors."""

    def __init__(self, **kwargs):
        super().__init__(PointSchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if (
            type(value) is dict
            and "at" in value
            and "volume" in value
            and value.keys() <= POINT_FIELDS
        ):
            try:
                at = value["at"]
                if not isinstance(at, str) or "\x00" in at:
                    raise ValueError(at)
                starts_at = datetime.fromisoformat(at)
                if starts_at.tzinfo is None:
                    raise ValueError(at)
                counter = value.get("counter_value")
                return {
                    "at": starts_at,
                    "volume": _decimal(value["volume"]),
                    "counter_value": None if counter is None else _decimal(counter),
                }
            except (ValueError, ArithmeticError):
                pass
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


GRANULARITY = ma.fields.String(
    required=True,
    validate=ma.validate.OneOf([kind.value for kind in TelemetryGranularity]),
    metadata={"enum": [kind.value for kind in TelemetryGranularity]},
)


class SeriesBody(StrictSchema):
    granularity = GRANULARITY
    points = ma.fields.List(
        PointField(),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_POINTS),
    )


class BulkSeriesSchema(Nested):
    granularity = GRANULARITY
    points = SeriesBody._declared_fields["points"]
    meter_id = ma.fields.Integer(
        strict=True, validate=ID_RANGE, metadata={"description": "Or serial_number"}
    )
    serial_number = ma.fields.String(validate=ma.validate.Length(min=1, max=64))

    @ma.validates_schema
    def names_a_meter(self, data, **_kwargs):
        if data.get("meter_id") is None and data.get("serial_number") is None:
            raise ma.ValidationError(
                str(_l("Name the meter by meter_id or serial_number.")), "meter_id"
            )


class BulkBody(StrictSchema):
    series = ma.fields.List(
        ma.fields.Nested(BulkSeriesSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_SERIES),
    )

    @ma.validates("series")
    def not_too_many_points(self, series, **_kwargs):
        points = (one.get("points") or [] for one in series if isinstance(one, dict))
        if sum(len(some) for some in points) > MAX_POINTS:
            raise ma.ValidationError(
                str(_l("At most %(count)s points in one request.", count=MAX_POINTS))
            )


class SeriesResultSchema(ma.Schema):
    meter_id = ma.fields.Integer(required=True)
    serial_number = ma.fields.String(required=True)
    granularity = ma.fields.String(
        required=True, metadata={"enum": [kind.value for kind in TelemetryGranularity]}
    )
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True, metadata={"description": "A new value replaced"})
    unchanged = ma.fields.Integer(required=True, metadata={"description": "Sent again, same"})


class TelemetryResultSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    series = ma.fields.List(ma.fields.Nested(SeriesResultSchema), required=True)


def _series(data, **meter):
    return telemetry.SeriesInput(
        granularity=data["granularity"],
        points=[
            telemetry.PointInput(p["at"], p["volume"], p.get("counter_value"))
            for p in data["points"]
        ],
        **meter,
    )


def _store(series, prefix):
    try:
        result = telemetry.store_series(g.membership.organisation_id, series)
    except telemetry.TelemetryRejected as rejection:
        raise Problem(
            422,
            rejection.message,
            errors=[
                {
                    "location": "json",
                    "field": prefix(error.series)
                    + (f"points.{error.point}." if error.point is not None else "")
                    + error.field,
                    "message": error.message,
                }
                for error in rejection.details["errors"]
            ],
            slug="telemetry-rejected",
        ) from None
    return {
        "created": result.total("created"),
        "updated": result.total("updated"),
        "unchanged": result.total("unchanged"),
        "series": [vars(one) for one in result.series],
    }


@blp.route("/meters/<int:meter_id>/telemetry", methods=["POST"])
@requires(Power.SUBMIT_READINGS)
@blp.arguments(SeriesBody)
@blp.response(200, TelemetryResultSchema)
def post_meter_telemetry(data, meter_id):
    """Store one meter's hourly or daily series.

    Another organisation's meter, or a deactivated one, is 404."""
    meter = (
        None
        if meter_id > MAX_ID
        else db.session.scalar(
            select(MeteringPoint).where(
                MeteringPoint.id == meter_id,
                active_meters_of(g.membership.organisation_id),
            )
        )
    )
    if meter is None:
        raise Problem(404, _l("There is no meter with this id in your organisation."))
    return _store([_series(data, meter_id=meter.id)], lambda _index: "")


@blp.route("/telemetry", methods=["POST"])
@requires(Power.SUBMIT_READINGS)
@blp.arguments(BulkBody, as_kwargs=True)
@blp.response(200, TelemetryResultSchema)
def post_telemetry(series):
    """Store series of many meters at once (each by `meter_id` or `serial_number`).

    All or nothing: an unknown meter or a refused point refuses the request."""
    inputs = [
        _series(one, meter_id=one.get("meter_id"), serial_number=one.get("serial_number"))
        for one in series
    ]
    return _store(inputs, lambda index: f"series.{index}.")
