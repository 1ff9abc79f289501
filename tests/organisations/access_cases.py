from portal.organisations.models import Power
from tests.access import Case
from tests.factories import make_user


def a_membership(organisation):
    user = make_user(organisation, {Power.VIEW_PRICES})
    return {"membership_id": user.memberships[0].id}


CASES = {
    "organisations.edit_member": Case(a_membership, power=Power.MANAGE_USERS),
    "organisations.toggle_block": Case(a_membership, power=Power.MANAGE_USERS),
    "backoffice.issue_access_code": Case(a_membership, staff=True, curated=True),
    "backoffice.send_reset_link": Case(a_membership, staff=True, curated=True),
    "backoffice.show_organisation": Case(lambda o: {"organisation_id": o.id}, staff=True),
    "backoffice.assign_manager": Case(lambda o: {"organisation_id": o.id}, staff=True),
    "backoffice.edit_supply_contract": Case(
        lambda o: {"organisation_id": o.id}, staff=True, curated=True
    ),
    "backoffice.edit_edo_id": Case(lambda o: {"organisation_id": o.id}, staff=True, curated=True),
    "backoffice.reset_two_factor": Case(
        lambda o: {"user_id": make_user(staff_role="manager").id}, staff=True
    ),
    "backoffice.toggle_staff": Case(
        lambda o: {"user_id": make_user(staff_role="manager").id}, staff=True
    ),
}
