"""Tenant isolation and permissions for every route that takes an object id.

For each such route: a user of another organisation gets 404, a user of the same organisation
without the needed power gets 403, an anonymous visitor is sent to the login page; for staff
routes a customer gets 403. Never a 200, never a 500. A new object route without a case fails.
"""

import importlib
import io
import pkgutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests
import tests.api.access_cases
from portal.audit import AuditEvent
from portal.billing import ledger
from portal.documents.models import SupplierDocument
from portal.extensions import db
from portal.organisations.models import ALL_POWERS
from portal.security import rule_for
from tests.access import TOKEN_ROUTES
from tests.documents.files import PDF_BYTES
from tests.factories import login, make_organisation, make_user


def collect_cases():
    cases = {}
    root = Path(tests.__file__).parent
    for module in pkgutil.walk_packages([str(root)], prefix="tests."):
        if module.name.endswith(".access_cases"):
            cases.update(importlib.import_module(module.name).CASES)
    return cases


CASES = collect_cases()


def object_routes(app):
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.arguments
        and rule.endpoint not in TOKEN_ROUTES
        and not rule.endpoint.endswith("static")
        and not rule.rule.startswith("/api/")  # the machine API: see API_CASES below
    }


def test_every_object_route_has_an_access_case(app):
    missing = sorted(set(object_routes(app)) - set(CASES))
    assert missing == [], f"add these to tests/<domain>/access_cases.py: {missing}"


def request(client, rule, kwargs):
    url = rule.build(kwargs, append_unknown=False)[1]
    method = "GET" if "GET" in rule.methods else "POST"
    return client.get(url) if method == "GET" else client.post(url, data={})


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_object_route_access(app, endpoint):
    rule = object_routes(app).get(endpoint)
    assert rule is not None, f"{endpoint} is listed in an access_cases.py but has no route"
    case = CASES[endpoint]
    owner = make_organisation(case.kind)
    kwargs = case.build(owner)

    anonymous = request(app.test_client(), rule, kwargs)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    outsider_org = make_organisation(case.kind)
    outsider = app.test_client()
    login(outsider, make_user(outsider_org, ALL_POWERS))
    expected = 403 if case.staff else 404
    assert request(outsider, rule, kwargs).status_code == expected

    if case.staff:
        insider = app.test_client()
        login(insider, make_user(owner, ALL_POWERS))
        assert request(insider, rule, kwargs).status_code == 403
    elif case.power is not None:
        insider = app.test_client()
        login(insider, make_user(owner, ALL_POWERS - {case.power}))
        assert request(insider, rule, kwargs).status_code == 403


# --- the curator rule: staff changes to an organisation's data ---------------------------------

# Staff routes that take an object id and write, yet change no one organisation's data: the
# shared catalogue, staff accounts (admins only), applications (no organisation, so no curator,
# yet), the curator assignment itself (admins only).
NOT_ORGANISATION_DATA = {
    "catalog.item_certificates",
    "catalog.delete_certificate",
    "backoffice.assign_manager",
    "backoffice.toggle_staff",
    "backoffice.reset_two_factor",
    "onboarding.approve_application",
    "onboarding.reject_application",
    "onboarding.request_information",
    "backoffice.edit_item",  # the shared catalogue's items and promotions
    "backoffice.edit_promotion",
    "backoffice.end_promotion",
    "jobs.retry",  # a failed queue job: the queue's, no organisation's
}


def test_every_changing_staff_route_is_under_the_curator_rule(app):
    changing = {
        endpoint
        for endpoint, rule in object_routes(app).items()
        if "POST" in rule.methods and CASES.get(endpoint) and CASES[endpoint].staff
    }
    uncurated = sorted(changing - NOT_ORGANISATION_DATA - set(CURATED))
    assert uncurated == [], f"mark these curated=True or say why not: {uncurated}"
    for endpoint in CURATED:
        assert rule_for(app.view_functions[endpoint]).kind == "curator", endpoint


CURATED = sorted(endpoint for endpoint, case in CASES.items() if case.curated)


def _audited_refusals(manager):
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "access.curator_refused", AuditEvent.actor_id == manager.id
        )
    )


@pytest.mark.parametrize("endpoint", CURATED)
def test_only_the_curator_and_admins_change_an_organisations_data(app, endpoint):
    rule = object_routes(app)[endpoint]
    case = CASES[endpoint]
    curator = make_user(staff_role="manager")
    owner = make_organisation(case.kind, manager_id=curator.id)
    db.session.commit()
    url = rule.build(case.build(owner), append_unknown=False)[1]

    other_manager = make_user(staff_role="manager")
    stranger = app.test_client()
    login(stranger, other_manager)
    assert stranger.post(url, data={}).status_code == 403
    assert _audited_refusals(other_manager) == 1

    for user in (curator, make_user(staff_role="admin")):
        allowed = app.test_client()
        login(allowed, user)
        status = allowed.post(url, data={}).status_code
        assert status not in (403, 404) and status < 500, (user.staff_role, status)


def test_a_bank_statement_with_another_curators_customer_is_refused_whole(app):
    curator = make_user(staff_role="manager")
    theirs = make_organisation("gas", manager_id=curator.id)
    other_manager = make_user(staff_role="manager")
    mine = make_organisation("gas", manager_id=other_manager.id)
    db.session.commit()
    text = (
        "payer_inn;amount;date;document_number\n"
        f"{mine.inn};100,00;01.11.2026;1\n{theirs.inn};100,00;01.11.2026;2\n"
    )
    csv_file = {"file": (io.BytesIO(text.encode()), "statement.csv")}
    stranger = app.test_client()
    login(stranger, other_manager)
    page = stranger.post("/backoffice/billing/payments", data=csv_file).get_data(as_text=True)
    assert f"Клиента с ИНН {theirs.inn} ведёт другой менеджер" in page
    assert ledger.balance(theirs.id) == 0 and ledger.balance(mine.id) == 0

    allowed = app.test_client()
    login(allowed, curator)
    text = f"payer_inn;amount;date;document_number\n{theirs.inn};100,00;01.11.2026;2\n"
    csv_file["file"] = (io.BytesIO(text.encode()), "statement.csv")
    answer = allowed.post("/backoffice/billing/payments", data=csv_file, follow_redirects=True)
    assert "Загружено оплат: 1" in answer.get_data(as_text=True)  # on the import job's page


def test_only_the_curator_publishes_a_document_to_an_organisation(app):
    curator = make_user(staff_role="manager")
    owner = make_organisation(manager_id=curator.id)
    db.session.commit()

    def publish(user):
        client = app.test_client()
        login(client, user)
        return client.post(
            "/backoffice/documents/new",
            data={
                "organisation_id": str(owner.id),
                "kind": "certificate",
                "title": "Сертификат",
                "number": "1",
                "file": (io.BytesIO(PDF_BYTES), "doc.pdf"),
            },
            content_type="multipart/form-data",
        )

    other_manager = make_user(staff_role="manager")
    assert publish(other_manager).status_code == 403
    assert _audited_refusals(other_manager) == 1
    assert db.session.scalar(select(func.count(SupplierDocument.id))) == 0
    assert publish(curator).status_code == 302
    assert publish(make_user(staff_role="admin")).status_code == 302


def test_the_manager_a_request_is_handed_to_may_answer_it_but_not_reassign_it(app):
    from portal.tickets.models import Ticket
    from tests.tickets.access_cases import a_ticket

    curator, colleague = make_user(staff_role="manager"), make_user(staff_role="manager")
    owner = make_organisation(manager_id=curator.id)
    ticket = db.session.get(Ticket, a_ticket(owner)["ticket_id"])
    ticket.assigned_to_id = colleague.id
    db.session.commit()
    client = app.test_client()
    login(client, colleague)
    answer = {"body": "Поставка в четверг", "submit": "1"}
    assert client.post(f"/backoffice/tickets/{ticket.id}", data=answer).status_code == 302
    assert db.session.get(Ticket, ticket.id).events[-1].body == "Поставка в четверг"
    reassign = {"assignee": str(colleague.id)}
    assert client.post(f"/backoffice/tickets/{ticket.id}/assign", data=reassign).status_code == 403


# --- the machine API (/api/v1): every route, with a key instead of a session -------------------

API_CASES = tests.api.access_cases.API_CASES


def api_routes(app):
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and rule_for(app.view_functions[rule.endpoint]).kind != "public"
    }


def test_every_api_route_has_an_access_case(app):
    missing = sorted(set(api_routes(app)) - set(API_CASES))
    assert missing == [], f"add these to tests/api/access_cases.py API_CASES: {missing}"
    for endpoint, _rule in api_routes(app).items():
        declared = rule_for(app.view_functions[endpoint])
        assert declared.kind == "api_key", endpoint
        assert declared.power == API_CASES[endpoint].power, endpoint


@pytest.mark.parametrize("endpoint", sorted(API_CASES))
def test_api_route_access(app, endpoint):
    from tests.api.conftest import assert_problem, bearer, issue_key

    rule = api_routes(app).get(endpoint)
    assert rule is not None, f"{endpoint} is listed in API_CASES but has no route"
    case = API_CASES[endpoint]
    owner = make_organisation(case.kind)
    arguments = case.build(owner)
    url = rule.build(arguments, append_unknown=False)[1]
    method = "GET" if "GET" in rule.methods else "POST"
    body = case.body(arguments) if callable(case.body) else case.body
    body = body if method == "POST" else None

    def call(token=None):
        client = app.test_client(use_cookies=False)
        headers = bearer(token) if token else {}
        response = client.open(url, method=method, json=body, headers=headers)
        response.get_data()
        response.close()  # a file download keeps its file open until closed
        return response

    assert_problem(call(), 401)
    _key, token = issue_key(owner, tuple(ALL_POWERS))
    if case.foreign is not None:  # before the owner's own call may have used the body
        outsider = make_organisation(case.foreign)
        _key, foreign = issue_key(outsider, tuple(ALL_POWERS))
        assert_problem(call(foreign), case.foreign_status)
    if case.power is not None:
        _key, weaker = issue_key(owner, tuple(ALL_POWERS - {case.power}))
        assert_problem(call(weaker), 403)
    if case.refused_without:
        _key, weaker = issue_key(owner, tuple(ALL_POWERS - set(case.refused_without)))
        assert_problem(call(weaker), 403)
    response = call(token)
    assert response.status_code == case.status, response.get_data(as_text=True)[:300]
