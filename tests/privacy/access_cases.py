from portal.extensions import db
from portal.privacy.consents import accept, current_version
from portal.privacy.models import ConsentPurpose
from portal.privacy.requests import RequestKind, open_request
from tests.access import Case
from tests.factories import make_user


def a_promotions_consent(organisation):
    """A consent of a user of the organisation: anyone else's request for it finds nothing."""
    owner = make_user(organisation)
    acceptance = accept(current_version(ConsentPurpose.PROMOTIONS), user=owner)
    db.session.commit()
    return {"acceptance_id": acceptance.id}


def a_persons_account(organisation):
    return {"user_id": make_user(organisation).id}


def a_request(organisation):
    person = make_user(organisation)
    request = open_request(person, RequestKind.OTHER, "Какие данные вы храните?")
    db.session.commit()
    return {"request_id": request.id}


CASES = {
    "privacy.withdraw_consent": Case(a_promotions_consent),
    # Someone else's export is not found, whoever asks (the route serves only one's own).
    "privacy_rights.export_json": Case(a_persons_account),
    "privacy_rights.export_xlsx": Case(a_persons_account),
    "privacy_rights.staff_request": Case(a_request, staff=True, curated=True),
}
