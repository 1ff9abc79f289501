from datetime import date

from portal.extensions import db
from portal.organisations.models import Power
from tests.access import Case
from tests.metering.helpers import add_reading, make_contract, make_meter


def a_meter(organisation):
    meter = make_meter(organisation)
    db.session.commit()
    return {"meter_id": meter.id}


def a_contract(organisation):
    contract = make_contract(organisation)
    db.session.commit()
    return {"contract_id": contract.id}


def a_reading(organisation):
    reading = add_reading(make_meter(organisation), date(2025, 1, 22), 100)
    db.session.commit()
    return {"reading_id": reading.id}


def the_organisation(organisation):
    return {"organisation_id": organisation.id}


READINGS = Power.SUBMIT_READINGS
CASES = {
    "metering.meter_history": Case(a_meter, power=READINGS, kind="gas"),
    "metering.contract_history": Case(a_contract, power=READINGS, kind="gas"),
    "metering.correct_reading": Case(a_reading, power=READINGS, kind="gas"),
    "metering.reading_photo": Case(a_reading, power=READINGS, kind="gas"),
    "metering_staff.mark_reviewed": Case(a_reading, staff=True, curated=True, kind="gas"),
    "metering_staff.correct_reading": Case(a_reading, staff=True, curated=True, kind="gas"),
    "metering_staff.reading_photo": Case(a_reading, staff=True, kind="gas"),
    "metering_staff.meter_history": Case(a_meter, staff=True, kind="gas"),
    "metering_staff.organisation": Case(the_organisation, staff=True, kind="gas"),
    "metering_staff.new_contract": Case(the_organisation, staff=True, curated=True, kind="gas"),
    "metering_staff.edit_contract": Case(a_contract, staff=True, curated=True, kind="gas"),
    "metering_staff.add_tariff": Case(a_contract, staff=True, curated=True, kind="gas"),
    "metering_staff.new_meter": Case(the_organisation, staff=True, curated=True, kind="gas"),
    "metering_staff.edit_meter": Case(a_meter, staff=True, curated=True, kind="gas"),
    "metering_staff.deactivate_meter": Case(a_meter, staff=True, curated=True, kind="gas"),
}


def a_plan_request(organisation):
    from portal.metering.models import PlanRequest, PlanRequestLine

    contract = make_contract(organisation)
    request = PlanRequest(
        organisation_id=organisation.id,
        contract_id=contract.id,
        kind="change",
        year=2027,
        status="pending",
        lines=[PlanRequestLine(period=date(2027, 3, 1), requested_volume=100)],
    )
    db.session.add(request)
    db.session.commit()
    return {"request_id": request.id}


CASES.update(
    {
        "metering.plan": Case(a_contract, power=READINGS, kind="gas"),
        "metering.plan_actual": Case(a_contract, power=READINGS, kind="gas"),
        "metering.submit_annual_plan": Case(a_contract, power=READINGS, kind="gas"),
        "metering.submit_plan_change": Case(a_contract, power=READINGS, kind="gas"),
        "metering_staff.plan": Case(a_contract, staff=True, kind="gas"),
        "metering_staff.plan_terms": Case(a_contract, staff=True, curated=True, kind="gas"),
        "metering_staff.decide_plan_request": Case(
            a_plan_request, staff=True, curated=True, kind="gas"
        ),
    }
)
