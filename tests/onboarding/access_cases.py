import itertools

from portal.extensions import db
from portal.onboarding.models import Application
from tests.access import Case
from tests.factories import valid_inn

_NUMBERS = itertools.count()


def an_application(organisation):
    # One organisation may need several (a page and its old address): each its own INN.
    application = Application(
        representative_name="Тестов Тест",
        organisation_name="ООО Тест",
        email="t@example.org",
        phone="+74951234567",
        region="Москва",
        kind="pharmacy",
        inn=valid_inn(9000 + organisation.id * 100 + next(_NUMBERS) % 100),
    )
    db.session.add(application)
    db.session.commit()
    return {"application_id": application.id}


CASES = {
    endpoint: Case(an_application, staff=True)
    for endpoint in (
        "onboarding.show_application",
        "onboarding.approve_application",
        "onboarding.reject_application",
        "onboarding.request_information",
        "onboarding.old_application_address",
    )
}
