from portal.privacy.consents import accept, current_version
from portal.privacy.models import ConsentPurpose
from tests.access import Case
from tests.factories import make_user


def a_promotions_consent(organisation):
    """A consent of a user of the organisation: anyone else's request for it finds nothing."""
    owner = make_user(organisation)
    acceptance = accept(current_version(ConsentPurpose.PROMOTIONS), user=owner)
    from portal.extensions import db

    db.session.commit()
    return {"acceptance_id": acceptance.id}


CASES = {"privacy.withdraw_consent": Case(a_promotions_consent)}
