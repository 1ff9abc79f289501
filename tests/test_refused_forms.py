"""Every form the portal refuses writes nothing, and says so with 422.

For every POST route of the site (not the machine API under /api/v1, whose bodies are JSON and
which tests/api covers), each role the route's access declaration lets in posts an empty form
(with the CSRF token, as a browser would): the answer is never a 500, no table gains or loses a
row (security facts aside: failed sign-ins, security audit events), and the answer is 422.
"""

import pytest
from flask import request
from sqlalchemy import func, or_, select

from portal import transactions
from portal.accounts.models import StaffRole
from portal.audit import AuditEvent
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, OrganisationKind
from portal.privacy.consents import accept, current_version
from portal.privacy.models import ConsentPurpose
from portal.security import AUTHENTICATED, CURATOR, CUSTOMER, POWER, PUBLIC, STAFF, rule_for
from tests.factories import login, make_organisation, make_user
from tests.test_access_matrix import CASES

# Tables a refused request may still write: the facts transactions.keep_on_refusal() keeps.
SECURITY_TABLES = {"login_attempts"}
SECURITY_ACTIONS = ("auth.", "access.", "security.")  # audit events of the security kind

# Routes for which an empty form is a whole, valid request: they act, and may write.
BUTTON = "a button: the empty form is the whole request"
KEEPS = "fields left out keep their current values (the form is filled from the row)"
EMPTY_FORM_ACTS = {
    "accounts.logout": "signing out needs no fields",
    "accounts.logout_everywhere": "ends every session of the user",
    "notifications.mark_read": "marks the user's notifications read",
    "accounts.profile": KEEPS,
    "backoffice.edit_edo_id": "an empty ЭДО id clears it",
    "orders.staff_note": "an empty note clears the note",
    "organisations.edit_member": "no powers ticked: the member keeps only the view",
    "billing.staff_allocate_payment": "no shares: the payment is left unallocated",
    "orders.update_cart": KEEPS,
    "orders.staff_shipped_quantities": KEEPS,
    "backoffice.issue_access_code": "a button: a new one-time code for the member",
    "backoffice.send_reset_link": "a button: the member gets a reset link by e-mail",
    "api_keys.remove_webhook": BUTTON,
    "api_keys.resend_delivery": BUTTON,
    "api_keys.revoke_key": BUTTON,
    "backoffice.end_promotion": BUTTON,
    "backoffice.toggle_staff": BUTTON,
    "catalog.delete_certificate": BUTTON,
    "documents.delete_upload": BUTTON,
    "documents.withdraw_document": BUTTON,
    "metering_staff.deactivate_meter": BUTTON,
    "metering_staff.mark_reviewed": BUTTON,
    "jobs.retry": BUTTON,
    "orders.cancel_order": BUTTON,
    "orders.reorder": BUTTON,
    "pharmacy.acknowledge_recall": BUTTON,
    "organisations.toggle_block": BUTTON,
    "tickets.close_ticket": BUTTON,
}

# Routes whose refusal rightly answers with a redirect and a flash, not a re-rendered form: the
# form is a button or a box on another page (a list, the cart, the top bar) or there is nothing
# to do. They go through transactions.refuse(): nothing is written, the answer is a redirect.
REFUSED_WITH_REDIRECT = {
    "accounts.accept_offer": "no offer waits to be accepted: on to the dashboard",
    "accounts.login_second_factor": "no sign-in waits for a code: back to the password",
    "backoffice.reset_two_factor": "a button on the staff list: no two-factor sign-in to turn off",
    "billing.staff_correct_shipment": "a form on the order's staff page, which billing (below "
    "orders) does not render: the message is flashed there",
    "orders.add_to_cart": "a quantity box in a catalogue list: back to the list with the message",
    "privacy.accept_portal_consent": "no consent waits to be given: on to the page asked for",
    "privacy.give_promotions_consent": "a box on the profile and on my consents: back there",
}

# Routes that still answer 200, a redirect, 400 or 404 on a refused form (nothing written, but
# no 422), with what they answer today and as whom. Remove an entry once its route answers 422;
# the test fails on an entry that already does. Empty: every refused form answers 422.
EXPECTED_422_PENDING: dict[str, str] = {}


def own_portal_consent(user):
    """The person's own consent to the portal: withdrawing it needs the box ticked."""
    acceptance = accept(current_version(ConsentPurpose.PORTAL), user=user)
    db.session.commit()
    return {"acceptance_id": acceptance.id}


# Routes that act on the person's own object (an object of someone else is not found).
OWN_OBJECTS = {"privacy.withdraw_consent": own_portal_consent}


def post_routes(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods
            and not rule.rule.startswith("/api/v1")
            and not rule.endpoint.endswith("static")
        ),
        key=lambda rule: rule.endpoint,
    )


def row_counts():
    """Rows per table, audit events of the security kind and the security tables left out."""
    db.session.rollback()  # read what the requests committed, not this session's snapshot
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in SECURITY_TABLES:
            continue
        query = select(func.count()).select_from(table)
        if table.name == AuditEvent.__tablename__:
            query = query.where(
                ~or_(*(AuditEvent.action.startswith(prefix) for prefix in SECURITY_ACTIONS))
            )
        counts[table.name] = db.session.scalar(query)
    return counts


@pytest.fixture
def people(app):
    manager = make_user(staff_role=StaffRole.MANAGER, login="refused.manager")
    admin = make_user(staff_role=StaffRole.ADMIN, login="refused.admin")
    pharmacy = make_organisation(OrganisationKind.PHARMACY, manager_id=manager.id)
    plant = make_organisation(OrganisationKind.GAS, manager_id=manager.id)
    db.session.flush()
    buyer = make_user(pharmacy, ALL_POWERS, login="refused.buyer")
    gas = make_user(plant, ALL_POWERS, login="refused.gas")
    db.session.commit()
    return {
        "buyer": (buyer, pharmacy),
        "gas": (gas, plant),
        "manager": (manager, None),
        "admin": (admin, None),
    }


def roles_for(rule):
    """The roles the access declaration lets in ("anonymous" for a public route)."""
    kind = rule.kind if rule else None
    if kind == PUBLIC:
        return ["anonymous"]
    customers = []
    if kind in (CUSTOMER, POWER, AUTHENTICATED):
        kinds = rule.kinds or (OrganisationKind.PHARMACY, OrganisationKind.GAS)
        customers = [
            role
            for role, organisation_kind in (
                ("buyer", OrganisationKind.PHARMACY),
                ("gas", OrganisationKind.GAS),
            )
            if organisation_kind in kinds
        ]
    staff = []
    if kind in (STAFF, CURATOR):
        staff = [r for r in ("manager", "admin") if StaffRole(r) in rule.roles]
    if kind == AUTHENTICATED:
        staff = ["manager"]
    return customers + staff


def url_for_role(rule, role, people, endpoint):
    """The URL, with an object the role may act on when the route takes one."""
    if not rule.arguments:
        return rule.build({}, append_unknown=False)[1]
    if endpoint in OWN_OBJECTS:
        return rule.build(OWN_OBJECTS[endpoint](people[role][0]), append_unknown=False)[1]
    case = CASES.get(endpoint)
    if case is None:
        return None  # a token route (a signed link): no object to build
    if role in ("manager", "admin"):
        owner = make_organisation(case.kind, manager_id=people["manager"][0].id)
    else:
        user, owner = people[role]
        if owner.kind != case.kind:
            return None
    kwargs = case.build(owner)
    db.session.commit()
    return rule.build(kwargs, append_unknown=False)[1]


def attempts(app, people):
    for rule in post_routes(app):
        access_rule = rule_for(app.view_functions[rule.endpoint])
        for role in roles_for(access_rule):
            yield rule, role


def test_there_are_forms_to_refuse(app, people):
    pairs = list(attempts(app, people))
    endpoints = {rule.endpoint for rule, _role in pairs}
    assert len(endpoints) > 60
    assert {role for _rule, role in pairs} == {"anonymous", "buyer", "gas", "manager", "admin"}
    # The lists name real routes only.
    lists = (EMPTY_FORM_ACTS, REFUSED_WITH_REDIRECT, EXPECTED_422_PENDING)
    named = [set(listed) for listed in lists]
    assert sorted(set().union(*named) - endpoints) == []
    assert sum(len(listed) for listed in named) == len(set().union(*named))  # one list each


def test_every_refused_form_writes_nothing_and_answers_422(app, people, monkeypatch):
    refused_at = set()  # the endpoints that called transactions.refuse()
    refuse = transactions.refuse

    def recording_refuse():
        refused_at.add(request.endpoint)
        refuse()

    monkeypatch.setattr(transactions, "refuse", recording_refuse)
    clients = {"anonymous": app.test_client()}
    for role in ("buyer", "gas", "manager", "admin"):
        clients[role] = app.test_client()
        login(clients[role], people[role][0])
    failures, answered_422, not_422 = [], set(), set()
    for rule, role in attempts(app, people):
        url = url_for_role(rule, role, people, rule.endpoint)
        if url is None:
            continue
        before = row_counts()
        response = clients[role].post(url, data={})
        status = response.status_code
        if role != "anonymous" and rule.endpoint.startswith("accounts.logout"):
            login(clients[role], people[role][0])
        what = f"{rule.endpoint} as {role}: {url}"
        if status >= 500:
            failures.append(f"{what} answered {status}")
            continue
        if rule.endpoint in EMPTY_FORM_ACTS:
            continue
        after = row_counts()
        changed = {
            name: (before[name], after[name]) for name in before if before[name] != after[name]
        }
        if changed:
            failures.append(f"{what} wrote rows on a refused form: {changed}")
        if rule.endpoint in REFUSED_WITH_REDIRECT:
            if status not in (302, 303) or rule.endpoint not in refused_at:
                failures.append(f"{what} answered {status}, not a refused redirect")
            continue
        if status == 422:
            answered_422.add(rule.endpoint)
        else:
            not_422.add(rule.endpoint)
        if status != 422 and rule.endpoint not in EXPECTED_422_PENDING:
            failures.append(f"{what} answered {status}, not 422")
    assert failures == []
    fixed = set(EXPECTED_422_PENDING) & (answered_422 - not_422)
    assert sorted(fixed) == []  # 422 for every role already: drop the entry
