"""The whole onboarding path: apply → review → approve → e-mail link → password → offer → use."""

from sqlalchemy import select

from portal.accounts.models import OfferAcceptance, OfferVersion, User
from portal.audit import AuditEvent
from portal.extensions import db
from portal.onboarding.models import Application
from portal.organisations.models import Membership, Organisation, Power
from tests.factories import login
from tests.html import shown
from tests.onboarding.test_apply import VALID

NEW_PASSWORD = "Apteka-Sadovaya-2026"
APPROVE = {
    "legal_name": 'ООО "Аптека на Садовой"',
    "kind": "pharmacy",
    "kpp": "780201001",
    "ogrn": "1027700132195",
    "legal_address": "190000, Санкт-Петербург, ул. Садовая, д. 1",
    "delivery_address": "190000, Санкт-Петербург, ул. Садовая, д. 1",
    "region": "Санкт-Петербург",
    "admin_login": "sadovaya",
}


def submit(client):
    client.post("/apply", data=VALID)
    return db.session.scalar(select(Application))


def publish_offer(admin):
    db.session.add(
        OfferVersion(
            version="2026-01", title="Договор-оферта", text="Условия...", published_by_id=admin.id
        )
    )
    db.session.commit()


def test_full_onboarding_path(app, client, manager, admin, outbox):
    publish_offer(admin)
    application = submit(app.test_client())
    staff = app.test_client()
    login(staff, manager)
    queue = staff.get("/backoffice/onboarding/applications?status=new").get_data(as_text=True)
    assert application.reference in queue
    response = staff.post(
        f"/backoffice/onboarding/applications/{application.id}/approve", data=APPROVE
    )
    assert response.status_code == 302

    organisation = db.session.scalar(select(Organisation).where(Organisation.inn == VALID["inn"]))
    assert organisation.manager_id == manager.id and organisation.kpp == "780201001"
    user = db.session.scalar(select(User).where(User.login == "sadovaya"))
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.powers == frozenset(Power)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application.approved"))
    assert audit.actor_id == manager.id and audit.ip == "127.0.0.1"

    approval = outbox.to(VALID["email"])[-1]
    assert "одобрена" in approval["Subject"]
    (link,) = outbox.links(approval)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    login(client, "sadovaya", NEW_PASSWORD)

    # The offer must be accepted before anything else.
    assert client.get("/").headers["Location"].startswith("/offer")
    refused = client.post("/offer", data={})
    assert "Отметьте" in refused.get_data(as_text=True)
    client.post("/offer", data={"accept": "y"})
    acceptance = db.session.scalar(
        select(OfferAcceptance).where(OfferAcceptance.user_id == user.id)
    )
    assert acceptance.offer_version.version == "2026-01" and acceptance.accepted_at is not None
    # Then, separately, the consent to processing personal data for using the portal.
    assert client.get("/").headers["Location"].startswith("/privacy/consent")
    client.post("/privacy/consent", data={"version": "1", "accept": "y"})
    assert client.get("/").status_code == 200

    # The organisation administrator adds a colleague who may only see prices.
    response = client.post(
        "/organisation/users/new",
        data={
            "full_name": "Сидоров Пётр",
            "email": "sidorov@sadovaya.example.org",
            "powers": [Power.VIEW_PRICES.value],
        },
    )
    assert response.status_code == 302
    invitation = outbox.to("sidorov@sadovaya.example.org")[-1]
    (colleague_link,) = outbox.links(invitation)
    colleague = app.test_client()
    colleague.post(
        colleague_link, data={"password": NEW_PASSWORD + "x", "confirm": NEW_PASSWORD + "x"}
    )
    login(colleague, "sidorov", NEW_PASSWORD + "x")
    colleague.post("/offer", data={"accept": "y"})
    # An invited colleague gives the consent at the first sign-in too.
    assert colleague.get("/").headers["Location"].startswith("/privacy/consent")
    colleague.post("/privacy/consent", data={"version": "1", "accept": "y"})
    dashboard = shown(colleague.get("/"))
    assert 'href="/documents/"' in dashboard  # the menu is there (a customer's documents) ...
    assert "/organisation/users" not in dashboard  # ... without what powers do not allow
    assert colleague.get("/organisation/users").status_code == 403


def test_reject_with_reason_is_mailed_and_audited(app, manager, outbox):
    application = submit(app.test_client())
    staff = app.test_client()
    login(staff, manager)
    empty = staff.post(
        f"/backoffice/onboarding/applications/{application.id}/reject", data={"reason": ""}
    )
    assert empty.status_code == 422
    assert db.session.get(Application, application.id).status == "new"
    staff.post(
        f"/backoffice/onboarding/applications/{application.id}/reject",
        data={"reason": "ИНН не соответствует организации"},
    )
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "rejected"
    mail = outbox.to(VALID["email"])[-1]
    assert "ИНН не соответствует организации" in outbox.text(mail)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "application.rejected"))
    assert event.actor_id == manager.id and event.details["reason"]
    # A decided application cannot be decided again.
    again = staff.post(
        f"/backoffice/onboarding/applications/{application.id}/approve", data=APPROVE
    )
    assert again.status_code == 422
    assert db.session.scalar(select(Organisation.id)) is None


def test_request_information_and_the_applicants_answer(app, manager, outbox):
    application = submit(app.test_client())
    staff = app.test_client()
    login(staff, manager)
    staff.post(
        f"/backoffice/onboarding/applications/{application.id}/ask",
        data={"question": "Пришлите, пожалуйста, номер лицензии"},
    )
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "info_requested"
    mail = outbox.to(VALID["email"])[-1]
    (reply_link,) = outbox.links(mail)
    applicant = app.test_client()
    assert "номер лицензии" in applicant.get(reply_link).get_data(as_text=True)
    applicant.post(reply_link, data={"answer": "ЛО-78-02-012345"})
    db.session.expire_all()
    refreshed = db.session.get(Application, application.id)
    assert refreshed.status == "new"
    assert refreshed.events[-1].message == "ЛО-78-02-012345"
    assert applicant.get(reply_link).status_code == 400  # answered: the link is spent


def test_customers_and_anonymous_cannot_open_the_queue(app, client, buyer):
    assert client.get("/backoffice/onboarding/applications").status_code == 302
    login(client, buyer)
    assert client.get("/backoffice/onboarding/applications").status_code == 403


def test_manager_creates_a_client_with_a_one_time_access_code(app, manager):
    staff = app.test_client()
    login(staff, manager)
    response = staff.post(
        "/backoffice/organisations/new",
        data={
            "legal_name": 'АО "ТехГаз"',
            "kind": "gas",
            "inn": "7707083893",
            "legal_address": "Нижний Новгород",
            "delivery_address": "Нижний Новгород",
            "region": "Нижегородская область",
            "user_full_name": "Соколов Д. Н.",
            "user_email": "sokolov@tehgaz.example.org",
            "user_login": "tehgaz",
        },
    )
    page = response.get_data(as_text=True)
    code = page.split('data-testid="access-code">')[1].split("<")[0]
    customer = app.test_client()
    response = customer.post("/login", data={"login": "tehgaz", "password": code})
    assert response.status_code == 302
    assert customer.get("/").headers["Location"].startswith("/password/change")
    customer.post("/password/change", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert customer.get("/").headers["Location"].startswith("/privacy/consent")
    customer.post("/privacy/consent", data={"version": "1", "accept": "y"})
    assert customer.get("/").status_code == 200
    # The code worked once.
    again = app.test_client().post("/login", data={"login": "tehgaz", "password": code})
    assert again.status_code == 422
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"organisation.created", "auth.access_code_issued"} <= actions


def test_an_answer_link_older_than_the_limit_is_refused_with_a_way_forward(
    app, manager, outbox, monkeypatch
):
    import time

    from itsdangerous import TimestampSigner

    from portal.onboarding.services import reply_token

    application = submit(app.test_client())
    staff = app.test_client()
    login(staff, manager)
    staff.post(
        f"/backoffice/onboarding/applications/{application.id}/ask",
        data={"question": "Номер лицензии?"},
    )
    mail = outbox.to(VALID["email"])[-1]
    assert "действительна 14 дн" in outbox.text(mail)  # the e-mail says how long it lasts
    (link,) = outbox.links(mail)
    # The same link as it was signed one minute more than the limit ago.
    signed_at = int(time.time()) - app.config["APPLICATION_REPLY_MAX_AGE"] - 60
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        old_link = f"/apply/reply/{reply_token(application)}"
    assert old_link != link
    applicant = app.test_client()
    page = applicant.get(old_link)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "Срок действия ссылки истёк" in text and application.reference in text
    refused = applicant.post(old_link, data={"answer": "ЛО-78-02-012345"})
    assert refused.status_code == 410
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "info_requested"
    # The page offers a fresh link, sent to the application's own address only.
    applicant.post(old_link + "/renew")
    fresh = outbox.to(VALID["email"])[-1]
    assert fresh is not mail and "Номер лицензии?" in outbox.text(fresh)
    (new_link,) = outbox.links(fresh)
    assert "Номер лицензии?" in applicant.get(new_link).get_data(as_text=True)
    applicant.post(new_link, data={"answer": "ЛО-78-02-012345"})
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "new"


def test_the_old_staff_addresses_lead_to_the_new_ones(app, manager):
    application = submit(app.test_client())
    staff = app.test_client()
    login(staff, manager)
    one = staff.get(f"/backoffice/applications/{application.id}")
    assert one.status_code == 301
    assert one.headers["Location"] == f"/backoffice/onboarding/applications/{application.id}"
    queue = staff.get("/backoffice/applications")
    assert queue.status_code == 301
    assert queue.headers["Location"] == "/backoffice/onboarding/applications"
