"""Consents to personal data processing: separate versioned texts, given, asked and withdrawn."""

import hashlib

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.audit import AuditEvent
from portal.extensions import db
from portal.onboarding.models import Application
from portal.privacy import consents
from portal.privacy.models import ConsentAcceptance, ConsentPurpose, ConsentVersion
from tests.factories import PASSWORD, login, make_user
from tests.onboarding.test_apply import VALID

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chromium/131"


def acceptances(**where):
    query = select(ConsentAcceptance)
    for name, value in where.items():
        query = query.where(getattr(ConsentAcceptance, name) == value)
    return db.session.scalars(query).all()


def audited(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def publish(purpose, text, admin):
    version = consents.publish_version(purpose, f"Редакция {purpose}", text, admin)
    db.session.commit()
    return version


# --- the texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["application", "portal", "promotions"])
def test_each_consent_is_its_own_public_versioned_text(client, app, purpose):
    version = consents.current_version(purpose)
    assert version.number == 1
    assert version.digest == hashlib.sha256(version.text.encode()).hexdigest()
    assert app.config["SUPPLIER"]["inn"] in version.text  # the operator is named
    page = client.get(f"/privacy/consents/{purpose}").get_data(as_text=True)
    assert version.title in page and version.digest in page
    assert "Версия 1" in page


def test_consent_texts_differ_from_each_other_and_from_the_policy():
    texts = {consents.current_version(p).text for p in ConsentPurpose}
    assert len(texts) == len(ConsentPurpose)


def test_unknown_purpose_or_version_is_404(client):
    assert client.get("/privacy/consents/marketing").status_code == 404
    assert client.get("/privacy/consents/portal?version=9").status_code == 404


def test_policy_page_is_public_and_linked_from_the_footer(client):
    page = client.get("/privacy/policy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Политика в отношении обработки персональных данных" in text
    assert "152-ФЗ" in text
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/privacy/policy"' in login_page.split("<footer", 1)[1]


def test_an_admin_publishes_a_new_policy_version_audited(client, admin, manager):
    login(client, manager)
    assert client.get("/backoffice/privacy").status_code == 403
    staff = client.application.test_client()
    login(staff, admin)
    response = staff.post(
        "/backoffice/privacy",
        data={"purpose": "policy", "title": "Политика (ред. 2)", "text": "Новый текст политики."},
    )
    assert response.status_code == 302
    version = consents.current_version("policy")
    assert (version.number, version.published_by_id) == (2, admin.id)
    assert version.text == "Новый текст политики.\n"
    assert version.digest == hashlib.sha256(version.text.encode()).hexdigest()
    (event,) = audited("consent.version_published")
    assert event.actor_id == admin.id and event.details["purpose"] == "policy"
    public = client.application.test_client().get("/privacy/policy").get_data(as_text=True)
    assert "Новый текст политики." in public
    old = client.application.test_client().get("/privacy/policy?version=1")
    assert "152-ФЗ" in old.get_data(as_text=True)


def test_publishing_the_same_text_again_is_refused(client, admin):
    login(client, admin)
    current = consents.current_version("portal")
    response = client.post(
        "/backoffice/privacy",
        data={"purpose": "portal", "title": current.title, "text": current.text},
    )
    assert response.status_code == 422
    assert "совпадает" in response.get_data(as_text=True)
    assert len(consents.versions_of("portal")) == 1


# --- the application form ----------------------------------------------------------------------


def test_application_form_has_an_unticked_consent_with_a_link_to_its_text(client):
    page = client.get("/apply").get_data(as_text=True)
    checkbox = (
        page.split('id="consent"', 1)[0].rsplit("<input", 1)[1]
        + page.split('id="consent"', 1)[1].split(">", 1)[0]
    )
    assert 'type="checkbox"' in checkbox and "checked" not in checkbox
    assert 'href="/privacy/consents/application?version=1"' in page
    assert 'href="/privacy/policy"' in page.split("<footer", 1)[0]  # and in the form itself


def test_application_without_the_consent_is_refused_next_to_the_box_and_nothing_stored(
    client, outbox
):
    data = {k: v for k, v in VALID.items() if k != "consent"}
    response = client.post("/apply", data=data)
    assert response.status_code == 422  # the form again, as for any refused field
    page = response.get_data(as_text=True)
    error = page.split('id="consent-errors"', 1)[1].split("</div>", 1)[0]
    assert "без вашего согласия" in error.lower()
    assert db.session.scalar(select(func.count(Application.id))) == 0
    assert acceptances() == []
    assert outbox.messages() == []


def test_application_with_the_consent_stores_it_against_the_application(client):
    response = client.post("/apply", data=VALID, headers={"User-Agent": BROWSER})
    assert response.status_code == 302
    application = db.session.scalar(select(Application))
    (acceptance,) = acceptances(application_id=application.id)
    version = consents.current_version("application")
    assert acceptance.purpose == "application" and acceptance.user_id is None
    assert (acceptance.version_id, acceptance.digest) == (version.id, version.digest)
    assert acceptance.ip == "127.0.0.1" and acceptance.user_agent == BROWSER
    assert acceptance.accepted_at is not None
    (event,) = audited("consent.given")
    assert event.target_type == "Application" and event.details["version"] == 1


def test_application_with_a_stale_consent_version_is_refused_and_nothing_stored(client, admin):
    publish("application", "Согласие, редакция 2.", admin)
    response = client.post("/apply", data=VALID)  # the form showed version 1
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "обновлён" in page.split('id="consent-errors"', 1)[1].split("</div>", 1)[0]
    assert 'href="/privacy/consents/application?version=2"' in page
    assert db.session.scalar(select(func.count(Application.id))) == 0
    assert acceptances() == []


# --- the consent asked at sign-in ---------------------------------------------------------------


@pytest.fixture
def newcomer(pharmacy):
    """A user of the organisation who has not given the portal consent yet (first sign-in)."""
    return make_user(pharmacy, login="newcomer", accept_consents=False)


def test_first_sign_in_asks_for_the_portal_consent_before_anything(client, newcomer):
    response = client.post("/login", data={"login": "newcomer", "password": PASSWORD})
    assert response.status_code == 302
    assert "/privacy/consent" in client.get("/orders").headers["Location"]
    page = client.get("/privacy/consent").get_data(as_text=True)
    assert consents.current_version("portal").title in page
    assert 'href="/privacy/consents/promotions?version=1"' in page  # the optional opt-in


def test_portal_consent_refused_without_the_tick(client, newcomer):
    login(client, newcomer)
    response = client.post("/privacy/consent", data={"version": "1"})
    assert response.status_code == 422
    assert 'id="accept-errors"' in response.get_data(as_text=True)
    assert acceptances() == []


def test_portal_consent_given_with_time_version_digest_ip_and_agent(client, newcomer):
    login(client, newcomer)
    response = client.post(
        "/privacy/consent?next=/orders",
        data={"version": "1", "accept": "y"},
        headers={"User-Agent": BROWSER},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/orders"
    (acceptance,) = acceptances(user_id=newcomer.id)
    version = consents.current_version("portal")
    assert (acceptance.purpose, acceptance.version_id) == ("portal", version.id)
    assert acceptance.digest == version.digest
    assert acceptance.ip == "127.0.0.1" and acceptance.user_agent == BROWSER
    assert not consents.has_consent(newcomer, "promotions")  # never given by default
    assert client.get("/").status_code == 200


def test_promotions_opt_in_on_the_consent_page_is_optional_and_separate(client, newcomer):
    login(client, newcomer)
    client.post(
        "/privacy/consent",
        data={"version": "1", "accept": "y", "promotions": "y", "promotions_version": "1"},
    )
    assert {a.purpose for a in acceptances(user_id=newcomer.id)} == {"portal", "promotions"}
    assert consents.has_consent(newcomer, "promotions")
    assert db.session.get(User, newcomer.id).notify_news is True


def test_a_new_portal_consent_version_is_asked_at_the_next_visit(client, buyer, admin):
    login(client, buyer)
    assert client.get("/").status_code == 200
    publish("portal", "Согласие на обработку, редакция 2.", admin)
    response = client.get("/orders")
    assert response.status_code == 302
    assert "/privacy/consent" in response.headers["Location"]
    page = client.get("/privacy/consent").get_data(as_text=True)
    assert "редакция 2" in page
    client.post("/privacy/consent", data={"version": "2", "accept": "y"})
    assert client.get("/orders").status_code == 200
    assert sorted(a.version.number for a in acceptances(user_id=buyer.id)) == [1, 2]


def test_a_stale_version_on_the_consent_page_leads_back_to_it_not_to_an_error(
    client, newcomer, admin
):
    login(client, newcomer)
    client.get("/privacy/consent")  # version 1 shown
    publish("portal", "Согласие на обработку, редакция 2.", admin)
    response = client.post("/privacy/consent", data={"version": "1", "accept": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/privacy/consent")
    assert acceptances(user_id=newcomer.id) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "редакция 2" in page and "обновлён" in page
    forged = client.post("/privacy/consent", data={"version": "junk", "accept": "y"})
    assert forged.status_code == 302 and acceptances(user_id=newcomer.id) == []


def test_staff_are_not_asked_for_the_customer_consent(client, manager):
    login(client, manager)
    assert client.get("/backoffice/").status_code == 200


def test_consent_page_refuses_a_post_without_csrf(client, newcomer):
    login(client, newcomer)
    response = client.post("/privacy/consent", data={"version": "1", "accept": "y"}, csrf=False)
    assert response.status_code == 400
    assert acceptances() == []


# --- the person's consents and their withdrawal --------------------------------------------------


@pytest.fixture
def subscribed(buyer):
    consents.accept(consents.current_version("promotions"), user=buyer)
    db.session.commit()
    return buyer


def own(user, purpose):
    return next(a for a in acceptances(user_id=user.id) if a.purpose == purpose)


def test_my_consents_lists_purpose_version_and_date(client, subscribed):
    login(client, subscribed)
    page = client.get("/privacy/my-consents").get_data(as_text=True)
    assert "Согласие на обработку персональных данных для пользования порталом" in page
    assert "Согласие на рекламные и информационные рассылки" in page
    assert page.count("Отозвать") == 2


def test_profile_links_to_the_consents_and_the_policy(client, buyer):
    login(client, buyer)
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/privacy/my-consents"' in page and 'href="/privacy/policy"' in page
    assert 'href="/privacy/consents/promotions?version=1"' in page  # the opt-in offered


def test_subscribing_to_promotions_from_the_profile(client, buyer):
    login(client, buyer)
    response = client.post(
        "/privacy/my-consents/promotions?next=/profile", data={"version": "1", "accept": "y"}
    )
    assert response.headers["Location"] == "/profile"
    assert consents.has_consent(buyer, "promotions")


def test_withdrawing_promotions_stops_them_at_once(client, subscribed):
    login(client, subscribed)
    acceptance = own(subscribed, "promotions")
    url = f"/privacy/my-consents/{acceptance.id}/withdraw"
    assert "Отозвать согласие" in client.get(url).get_data(as_text=True)  # confirmation step
    assert consents.has_consent(subscribed, "promotions")
    response = client.post(url, data={})
    assert response.status_code == 302
    assert not consents.has_consent(subscribed, "promotions")
    assert db.session.get(User, subscribed.id).notify_news is False
    assert db.session.get(ConsentAcceptance, acceptance.id).withdrawn_at is not None
    (event,) = audited("consent.withdrawn")
    assert event.details["purpose"] == "promotions"
    assert client.get("/").status_code == 200  # the portal stays open


def test_withdrawing_the_portal_consent_needs_confirmation_then_blocks(client, buyer):
    login(client, buyer)
    acceptance = own(buyer, "portal")
    url = f"/privacy/my-consents/{acceptance.id}/withdraw"
    assert "будет заблокирована" in client.get(url).get_data(as_text=True)
    unconfirmed = client.post(url, data={})
    assert unconfirmed.status_code == 422
    assert db.session.get(User, buyer.id).is_active_flag is True
    response = client.post(url, data={"understood": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    user = db.session.get(User, buyer.id)
    assert user.is_active_flag is False
    assert db.session.get(ConsentAcceptance, acceptance.id).withdrawn_at is not None
    assert "/login" in client.get("/orders").headers["Location"]  # signed out
    again = client.post("/login", data={"login": "buyer", "password": PASSWORD})
    assert again.status_code != 302
    assert len(audited("account.blocked_consent_withdrawn")) == 1
    # Staff get a request to answer within the legal term.
    from portal.privacy.requests import RequestKind, open_requests_of

    (opened,) = open_requests_of(user, RequestKind.CONSENT_WITHDRAWN)
    assert opened.due_on > opened.received_on


def test_portal_withdrawal_calls_the_single_hook(client, buyer, monkeypatch):
    called = []
    original = consents._on_portal_consent_withdrawn
    monkeypatch.setattr(
        consents,
        "_on_portal_consent_withdrawn",
        lambda user: called.append(user.id) or original(user),
    )
    login(client, buyer)
    client.post(
        f"/privacy/my-consents/{own(buyer, 'portal').id}/withdraw", data={"understood": "y"}
    )
    assert called == [buyer.id]


def test_another_persons_consent_is_404(client, subscribed, pharmacy):
    colleague = make_user(pharmacy)
    login(client, colleague)
    acceptance = own(subscribed, "promotions")
    url = f"/privacy/my-consents/{acceptance.id}/withdraw"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"understood": "y"}).status_code == 404
    assert db.session.get(ConsentAcceptance, acceptance.id).withdrawn_at is None


def test_withdrawal_without_csrf_is_refused(client, subscribed):
    login(client, subscribed)
    acceptance = own(subscribed, "promotions")
    url = f"/privacy/my-consents/{acceptance.id}/withdraw"
    assert client.post(url, data={}, csrf=False).status_code == 400
    assert consents.has_consent(subscribed, "promotions")


def test_a_withdrawn_consent_cannot_be_withdrawn_twice(client, subscribed):
    login(client, subscribed)
    acceptance = own(subscribed, "promotions")
    url = f"/privacy/my-consents/{acceptance.id}/withdraw"
    client.post(url, data={})
    client.post(url, data={})
    assert len(audited("consent.withdrawn")) == 1


# --- the offer without its personal-data clause -----------------------------------------------


def test_the_offer_no_longer_carries_a_personal_data_clause():
    import importlib.util
    from pathlib import Path

    from portal.demo.foundation import OFFER_TEXT

    assert "Персональные данные" not in OFFER_TEXT
    path = Path(__file__).parents[2] / "migrations/versions/0019_consents.py"
    spec = importlib.util.spec_from_file_location("revision_0019", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    old = "1. Общие положения\n1.1. А.\n2. Персональные данные\n2.1. Б.\n3. Прочее\n3.1. В.\n"
    assert revision.offer_without_personal_data_clause(old) == (
        "1. Общие положения\n1.1. А.\n2. Прочее\n2.1. В.\n"
    )
    assert revision.offer_without_personal_data_clause(OFFER_TEXT) is None


def test_versions_are_unique_per_purpose():
    assert db.session.scalar(select(func.count(ConsentVersion.id))) == len(ConsentPurpose)


def test_the_reviewing_manager_sees_the_applicants_consent(client, manager):
    client.post("/apply", data=VALID)
    application = db.session.scalar(select(Application))
    login(client, manager)
    page = client.get(f"/backoffice/onboarding/applications/{application.id}").get_data(
        as_text=True
    )
    shown = page.split('data-testid="application-consent">', 1)[1].split("</dd>", 1)[0]
    assert 'href="/privacy/consents/application?version=1"' in shown and "127.0.0.1" in shown


def test_an_application_deleted_takes_its_consent_with_it(client):
    client.post("/apply", data=VALID)
    application = db.session.scalar(select(Application))
    db.session.delete(application)
    db.session.commit()
    assert acceptances() == []
