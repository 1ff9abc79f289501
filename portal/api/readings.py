"""Gas customers' meters, contracts, the reading window and monthly readings (/api/v1).

Readings go through `portal.metering.submission.submit_readings`, the form's own rules: a value
below the last reading (without a confirmed rollover), over the meter's maximum flow, a second
reading of the month, a future date… refuse the whole request, each meter's error named by its
index in `readings`, and nothing is saved.
"""

import marshmallow as ma
from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import select

from portal import clock
from portal.api.auth import requires
from portal.api.problems import Problem
from portal.api.schemas import ID_RANGE, DecimalString, StrictSchema
from portal.errors import UserError
from portal.extensions import db
from portal.metering import readings as metering
from portal.metering import registry, submission
from portal.metering.models import MeteringPoint, ReadingSource
from portal.metering.window import submission_window
from portal.organisations.models import Power

blp = Blueprint(
    "api_readings",
    __name__,
    url_prefix="/api/v1",
    description="Gas meters, contracts, the monthly reading window and readings",
)

MAX_READINGS = 5000


class ContractRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)


class ReadingRefSchema(ma.Schema):
    reading_date = ma.fields.Date(required=True)
    value = DecimalString(required=True, metadata={"description": "m³"})
    consumption = DecimalString(allow_none=True, required=True, metadata={"description": "m³"})


class MeterSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    serial_number = ma.fields.String(required=True)
    model = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    contract = ma.fields.Nested(ContractRefSchema, required=True)
    digits = ma.fields.Integer(required=True, metadata={"description": "Digits of the drum"})
    max_flow = DecimalString(required=True, metadata={"description": "m³ per hour"})
    verification_due = ma.fields.Date(allow_none=True, required=True)
    last_reading = ma.fields.Nested(
        ReadingRefSchema,
        allow_none=True,
        required=True,
        metadata={"description": "The latest reading before this month's"},
    )
    this_month = ma.fields.Nested(ReadingRefSchema, allow_none=True, required=True)


class MeterListSchema(ma.Schema):
    meters = ma.fields.List(ma.fields.Nested(MeterSchema), required=True)


class ContractSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(allow_none=True, required=True)
    meter_ids = ma.fields.List(ma.fields.Integer(), required=True)


class ContractListSchema(ma.Schema):
    contracts = ma.fields.List(ma.fields.Nested(ContractSchema), required=True)


class WindowSchema(ma.Schema):
    period = ma.fields.Date(required=True, metadata={"description": "The month's first day"})
    opens = ma.fields.Date(required=True)
    closes = ma.fields.Date(required=True)
    today = ma.fields.Date(required=True)
    is_open = ma.fields.Boolean(required=True)
    is_closed = ma.fields.Boolean(
        required=True, metadata={"description": "Readings now are accepted but marked late"}
    )
    meters_without_reading = ma.fields.List(
        ma.fields.Integer(), required=True, metadata={"description": "Ids, this month"}
    )


class ReadingLineSchema(StrictSchema):
    meter_id = ma.fields.Integer(required=True, strict=True, validate=ID_RANGE)
    value = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=32),
        metadata={"description": 'The meter\'s index, m³, e.g. "12345.678"', "example": "12345.6"},
    )
    confirm_rollover = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The meter rolled over past zero (a value below the last)"},
    )


class ReadingsBody(StrictSchema):
    reading_date = ma.fields.Date(required=True, metadata={"description": "Not in the future"})
    readings = ma.fields.List(
        ma.fields.Nested(ReadingLineSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_READINGS),
    )

    @ma.validates("readings")
    def one_line_per_meter(self, lines, **_kwargs):
        seen = {}
        errors = {}
        for index, line in enumerate(lines):
            if (
                not isinstance(line, dict) or line.get("meter_id") is None
            ):  # refused by its own field already
                continue
            earlier = seen.setdefault(line["meter_id"], index)
            if earlier != index:
                errors[index] = {
                    "meter_id": [_("This meter is already in line %(index)s.", index=earlier)]
                }
        if errors:
            raise ma.ValidationError(errors)


class SavedReadingSchema(ma.Schema):
    meter_id = ma.fields.Integer(required=True)
    serial_number = ma.fields.String(required=True)
    value = DecimalString(required=True)
    consumption = DecimalString(allow_none=True, required=True)
    rolled_over = ma.fields.Boolean(required=True)
    is_late = ma.fields.Boolean(required=True)
    warning = ma.fields.String(allow_none=True, required=True)


class SubmissionSchema(ma.Schema):
    reading_date = ma.fields.Date(required=True)
    period = ma.fields.Date(required=True)
    saved = ma.fields.Integer(required=True)
    readings = ma.fields.List(ma.fields.Nested(SavedReadingSchema), required=True)


def _reading_ref(reading):
    if reading is None:
        return None
    return {
        "reading_date": reading.reading_date,
        "value": reading.value,
        "consumption": reading.consumption,
    }


@blp.route("/meters")
@requires(Power.SUBMIT_READINGS)
@blp.response(200, MeterListSchema)
def list_meters():
    """The organisation's active meters with their last reading and this month's."""
    rows = metering.readings_form_rows(g.membership.organisation_id)
    return {
        "meters": [
            {
                "id": row.meter.id,
                "serial_number": row.meter.serial_number,
                "model": row.meter.model,
                "address": row.meter.address,
                "contract": {"id": row.meter.contract.id, "number": row.meter.contract.number},
                "digits": row.meter.digits,
                "max_flow": row.meter.max_flow,
                "verification_due": row.meter.verification_due,
                "last_reading": _reading_ref(row.previous),
                "this_month": _reading_ref(row.current),
            }
            for row in rows
        ]
    }


@blp.route("/contracts")
@requires(Power.SUBMIT_READINGS)
@blp.response(200, ContractListSchema)
def list_contracts():
    """The organisation's gas contracts and the ids of their active meters."""
    organisation_id = g.membership.organisation_id
    contracts = registry.organisation_contracts(organisation_id)
    meters = {}
    for meter_id, contract_id in db.session.execute(
        select(MeteringPoint.id, MeteringPoint.contract_id)
        .where(metering.active_meters_of(organisation_id))
        .order_by(MeteringPoint.serial_number)
    ):
        meters.setdefault(contract_id, []).append(meter_id)
    return {
        "contracts": [
            {
                "id": contract.id,
                "number": contract.number,
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "meter_ids": meters.get(contract.id, []),
            }
            for contract in contracts
        ]
    }


@blp.route("/readings/window")
@requires(Power.SUBMIT_READINGS)
@blp.response(200, WindowSchema)
def reading_window():
    """This month's submission window and the meters still without a reading."""
    window = submission_window()
    missing = metering.meters_without_reading(g.membership.organisation_id, window.period)
    return {
        "period": window.period,
        "opens": window.opens,
        "closes": window.closes,
        "today": window.today,
        "is_open": window.is_open,
        "is_closed": window.is_closed,
        "meters_without_reading": [meter.id for meter in missing],
    }


def _rejection_errors(lines, rejection, organisation_id) -> list[dict]:
    index_of = {line["meter_id"]: index for index, line in enumerate(lines)}
    own = set(
        db.session.scalars(
            select(MeteringPoint.id).where(metering.active_meters_of(organisation_id))
        )
    )
    errors = []
    for meter_id, message in rejection.details["errors"].items():
        name = "value" if meter_id in own else "meter_id"
        errors.append(
            {
                "location": "json",
                "field": f"readings.{index_of.get(meter_id, 0)}.{name}",
                "message": str(message),
            }
        )
    return sorted(errors, key=lambda error: int(error["field"].split(".")[1]))


@blp.route("/readings", methods=["POST"])
@requires(Power.SUBMIT_READINGS)
@blp.arguments(ReadingsBody, as_kwargs=True)
@blp.response(201, SubmissionSchema)
def submit_readings(reading_date, readings):
    """Submit this month's readings of many meters at once: all are saved or none.

    The form's rules apply to each line; any refusal answers 422 with one entry in `errors`
    per refused line (`readings.<index>.value`), and nothing is saved. A reading after the
    window closes is saved and marked late (`is_late`); a large deviation from last year
    is saved with a `warning`."""
    membership = g.membership
    inputs = [
        submission.ReadingInput(
            meter_id=line["meter_id"],
            raw_value=line["value"],
            confirm_rollover=line["confirm_rollover"],
            label=str(index),
        )
        for index, line in enumerate(readings)
    ]
    try:
        result = submission.submit_readings(
            membership.organisation_id,
            membership.user,
            reading_date,
            inputs,
            source=ReadingSource.API,
        )
    except submission.ReadingsRejected as rejection:
        raise Problem(
            422,
            rejection.message,
            errors=_rejection_errors(readings, rejection, membership.organisation_id),
            slug="readings-rejected",
        ) from None
    except UserError as error:
        raise Problem(
            422,
            _l("Correct the fields listed in «errors»."),
            errors=[
                {
                    "location": "json",
                    "field": error.field or "readings",
                    "message": str(error.message),
                }
            ],
        ) from None
    payload = {
        "reading_date": reading_date,
        "period": clock.month_start(reading_date),
        "saved": len(result.readings),
        "readings": [
            {
                "meter_id": reading.metering_point_id,
                "serial_number": reading.metering_point.serial_number,
                "value": reading.value,
                "consumption": reading.consumption,
                "rolled_over": reading.rolled_over,
                "is_late": reading.is_late,
                "warning": reading.warning,
            }
            for reading in result.readings
        ],
    }
    return payload
