"""The person's rights: their data as JSON and XLSX, requests with legal due dates, erasure."""

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.accounts.models import LoginAttempt, User
from portal.audit import AuditEvent
from portal.billing.ledger import post_charge
from portal.billing.models import LedgerEntry
from portal.extensions import db
from portal.notifications.models import Notification
from portal.orders.models import Order
from portal.organisations.models import ALL_POWERS, Power
from portal.privacy import erasure
from portal.privacy.requests import (
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    add_working_days,
    open_request,
)
from tests.factories import PASSWORD, login, make_organisation, make_user
from tests.privacy.helpers import add_order, add_upload, audit_count, last_audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def person(pharmacy):
    """A buyer with a phone, an uploaded scan, a sign-in and an order; a colleague administers
    the pharmacy too, so the buyer may be erased."""
    user = make_user(pharmacy, login="ivanova", email="ivanova@apteka.example")
    user.full_name = "Иванова Мария Петровна"
    user.phone = "+79161234567"
    user.notify_news = True
    make_user(pharmacy, login="colleague")
    add_upload(user, pharmacy)
    db.session.commit()
    return user


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


# --- the export ------------------------------------------------------------------------------


def test_a_person_downloads_what_the_portal_holds_about_them_as_json(app, person, pharmacy):
    client = signed_in(app, person)
    response = client.get(f"/profile/personal-data/{person.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.data)

    assert data["profile"]["full_name"] == "Иванова Мария Петровна"
    assert data["profile"]["email"] == "ivanova@apteka.example"
    assert data["profile"]["phone"] == "+79161234567"
    assert data["notification_settings"]["news_and_promotions"] is True
    assert data["memberships"] == [
        {
            "organisation": 'ООО "Аптека Тест"',
            "inn": pharmacy.inn,
            "kind": "pharmacy",
            "powers": sorted(p.value for p in ALL_POWERS),
            "blocked": False,
            "since": data["memberships"][0]["since"],
        }
    ]
    sign_in = data["sign_in_history"][0]
    assert sign_in["succeeded"] is True and sign_in["ip"] == "127.0.0.1"
    upload = data["uploads"][0]
    assert upload["name"] == "акт-сверки.pdf" and upload["size"] == 35
    assert len(upload["sha256"]) == 64 and "content" not in upload
    assert any(entry["action"] == "auth.login" for entry in data["audit_entries"])
    # The consent given at the first sign-in, with its version and the digest of its text.
    (consent,) = [row for row in data["consents"] if row["kind"] == "portal"]
    assert consent["version"] == 1 and len(consent["text_sha256"]) == 64
    assert consent["accepted_at"] and consent["withdrawn_at"] is None
    # The download itself is recorded, with who and which format.
    event = last_audit("privacy.exported")
    assert event.actor_id == person.id and event.details == {"format": "json"}


def test_the_xlsx_export_holds_the_same_in_readable_sheets(app, person):
    client = signed_in(app, person)
    response = client.get(f"/profile/personal-data/{person.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    assert workbook.sheetnames[:4] == ["Профиль", "Организации", "Согласия", "Договор-оферта"]
    rows = workbook["Профиль"].iter_rows(values_only=True)
    profile = {row[0]: row[1] for row in rows if len(row) > 1}
    assert profile["ФИО"] == "Иванова Мария Петровна"
    assert profile["E-mail"] == "ivanova@apteka.example"
    assert profile["Телефон"] == "+79161234567"
    assert profile["Новости и акции по e-mail"] == "да"
    organisations = list(workbook["Организации"].iter_rows(values_only=True))
    assert organisations[1][0] == 'ООО "Аптека Тест"'
    assert "Управление пользователями" in organisations[1][3]
    uploads = list(workbook["Загруженные файлы"].iter_rows(values_only=True))
    assert uploads[1][:2] == ("Скан документа", "акт-сверки.pdf") and uploads[1][3] == 35
    history = list(workbook["История входов"].iter_rows(values_only=True))
    assert history[1][2] == "127.0.0.1"
    assert audit_count("privacy.exported", actor_id=person.id) == 1


def test_another_persons_export_is_not_found_even_for_staff(app, person, admin, pharmacy):
    colleague = db.session.scalar(select(User).where(User.login == "colleague"))
    for intruder in (colleague, admin):
        client = signed_in(app, intruder)
        for fmt in ("json", "xlsx"):
            assert client.get(f"/profile/personal-data/{person.id}/export.{fmt}").status_code == 404
    assert audit_count("privacy.exported") == 0


def test_the_profile_leads_to_the_personal_data_page(app, person):
    client = signed_in(app, person)
    assert "/profile/personal-data" in client.get("/profile").get_data(as_text=True)
    page = client.get("/profile/personal-data").get_data(as_text=True)
    assert f"/profile/personal-data/{person.id}/export.xlsx" in page
    assert f"/profile/personal-data/{person.id}/export.json" in page


# --- requests and their due dates -----------------------------------------------------------


def test_working_days_skip_weekends_and_russian_holidays():
    # 25.12.2025 (Thu): 26, 29, 30 Dec; 31 Dec and 1-11 Jan are days off; then 12-16, 19, 20 Jan.
    assert add_working_days(date(2025, 12, 25), 10) == date(2026, 1, 20)
    # Saturday 1 November 2025 was a working day (moved to Monday 3 November by decree).
    assert add_working_days(date(2025, 10, 31), 1) == date(2025, 11, 1)
    assert add_working_days(date(2025, 11, 1), 1) == date(2025, 11, 5)
    # An ordinary fortnight: ten working days are two weeks.
    assert add_working_days(date(2026, 2, 2), 10) == date(2026, 2, 16)


def test_a_request_received_before_the_may_holidays_is_due_after_them(person):
    request = open_request(person, RequestKind.ACCESS, received_on=date(2026, 4, 29))
    # 30 Apr; 1 May (holiday), weekend; 4-8 May; 11 May (Victory Day moved); 12-15 May.
    assert request.due_on == date(2026, 5, 15)
    assert request.received_on == date(2026, 4, 29)
    assert request.organisation_id == person.memberships[0].organisation_id


def test_a_person_asks_for_erasure_and_staff_see_it_with_its_due_date(
    app, person, manager, tax_day
):
    tax_day(date(2026, 3, 2))
    client = signed_in(app, person)
    response = client.post(
        "/profile/personal-data/erasure", data={"note": "Прошу удалить", "confirm": "y"}
    )
    assert response.status_code == 302
    request = db.session.scalar(select(PrivacyRequest))
    assert request.kind == RequestKind.ERASURE and request.status == RequestStatus.OPEN
    assert request.due_on == add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 17)
    assert audit_count("privacy.request_opened", actor_id=person.id) == 1
    page = client.get("/profile/personal-data").get_data(as_text=True)
    assert request.reference in page and "17.03.2026" in page

    # Staff hear of it under the bell, with the due date.
    notice = db.session.scalar(select(Notification).where(Notification.user_id == manager.id))
    assert request.reference in notice.title and "17.03.2026" in notice.title
    assert notice.link == f"/backoffice/privacy/requests/{request.id}"
    staff = signed_in(app, manager)
    listing = staff.get("/backoffice/privacy/requests").get_data(as_text=True)
    assert request.reference in listing and "17.03.2026" in listing
    assert "Иванова Мария Петровна" in listing and 'data-overdue="1"' not in listing
    # The same request after its due date is highlighted as overdue.
    tax_day(date(2026, 3, 18))
    listing = staff.get("/backoffice/privacy/requests").get_data(as_text=True)
    assert 'data-overdue="1"' in listing and "просрочен" in listing


def test_an_erasure_request_without_the_confirmation_is_refused_next_to_the_box(app, person):
    client = signed_in(app, person)
    response = client.post("/profile/personal-data/erasure", data={"note": "Удалите"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="confirm-errors"' in page and "Отметьте" in page
    assert db.session.scalar(select(func.count(PrivacyRequest.id))) == 0


def test_a_second_erasure_request_while_one_is_open_is_the_same_request(person):
    first = open_request(person, RequestKind.ERASURE)
    again = open_request(person, RequestKind.ERASURE, "ещё раз")
    assert again.id == first.id
    assert open_request(person, RequestKind.ACCESS).id != first.id
    # A withdrawn consent opens its own request, by the kind's name as the consents module
    # passes it.
    withdrawn = open_request(person, "consent_withdrawn", "Отзываю согласие на рассылку")
    assert withdrawn.kind == RequestKind.CONSENT_WITHDRAWN and withdrawn.id != first.id
    with pytest.raises(ValueError):
        open_request(person, "no_such_kind")


def test_customers_cannot_see_the_back_office_list(app, person):
    open_request(person, RequestKind.ERASURE)
    db.session.commit()
    client = signed_in(app, person)
    assert client.get("/backoffice/privacy/requests").status_code == 403
    anonymous = app.test_client().get("/backoffice/privacy/requests")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_manager_sees_the_requests_of_their_own_customers_only(app, person, pharmacy):
    curator = make_user(staff_role="manager")
    other_manager = make_user(staff_role="manager")
    pharmacy.manager_id = curator.id
    elsewhere = make_organisation(manager_id=other_manager.id)
    stranger = make_user(elsewhere, login="stranger")
    mine = open_request(person, RequestKind.ERASURE)
    theirs = open_request(stranger, RequestKind.ACCESS)
    db.session.commit()
    listing = signed_in(app, curator).get("/backoffice/privacy/requests").get_data(as_text=True)
    assert mine.reference in listing and theirs.reference not in listing
    refused = signed_in(app, curator).post(
        f"/backoffice/privacy/requests/{theirs.id}", data={"decision": "done"}
    )
    assert refused.status_code == 403
    assert db.session.get(PrivacyRequest, theirs.id).status == RequestStatus.OPEN


def test_staff_refuse_a_request_with_a_reason_and_the_decision_is_audited(app, person, manager):
    request = open_request(person, RequestKind.OTHER, "Вопрос")
    db.session.commit()
    staff = signed_in(app, manager)
    url = f"/backoffice/privacy/requests/{request.id}"
    no_reason = staff.post(url, data={"decision": "refused", "reason": " "})
    assert no_reason.status_code == 422
    assert "Укажите причину отказа" in no_reason.get_data(as_text=True)
    assert db.session.get(PrivacyRequest, request.id).status == RequestStatus.OPEN

    closed = staff.post(url, data={"decision": "refused", "reason": "Нет таких данных"})
    assert closed.status_code == 302
    request = db.session.get(PrivacyRequest, request.id)
    assert request.status == RequestStatus.REFUSED and request.decided_by_id == manager.id
    event = last_audit("privacy.request_closed")
    assert event.actor_id == manager.id and event.target_id == str(request.id)
    assert event.details["decision"] == "refused"
    assert event.details["reason"] == "Нет таких данных"
    assert staff.post(url, data={"decision": "done"}).status_code == 422  # closed stays closed


# --- erasure ----------------------------------------------------------------------------------


def test_erasure_anonymises_the_person_and_keeps_orders_and_the_ledger(
    app, person, pharmacy, manager
):
    order = add_order(person, pharmacy)
    post_charge(pharmacy.id, "1500.00", entry_date=date(2026, 1, 15), description="Отгрузка")
    request = open_request(person, RequestKind.ERASURE)
    db.session.commit()
    their_session = signed_in(app, person)
    ledger_before = db.session.scalar(select(func.count(LedgerEntry.id)))

    staff = signed_in(app, manager)
    response = staff.post(f"/backoffice/privacy/requests/{request.id}", data={"decision": "done"})
    assert response.status_code == 302

    user = db.session.get(User, person.id)
    assert user.full_name == f"Удалённый пользователь №{person.id}"
    assert user.email == f"erased-{person.id}@erased.invalid"
    assert user.phone is None and user.login != "ivanova"
    assert not user.is_active and user.password_hash is None
    assert all(m.is_blocked for m in user.memberships)
    # IP addresses are gone from the sign-in history and the audit entries of the person.
    attempts = db.session.scalars(select(LoginAttempt).where(LoginAttempt.user_id == user.id))
    assert [a.ip for a in attempts] == [None]
    actor_ips = db.session.scalars(select(AuditEvent.ip).where(AuditEvent.actor_id == user.id))
    assert set(actor_ips) == {None}
    logins = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert all("ivanova" not in json.dumps(e.details, ensure_ascii=False) for e in logins)
    # The organisation's accounting stays, still pointing at the (now anonymous) account.
    assert db.session.get(Order, order.id).user_id == user.id
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == ledger_before
    # Sign-in is closed: the old session is void and the old password opens nothing.
    assert their_session.get("/profile").status_code == 302
    refused = app.test_client().post("/login", data={"login": "ivanova", "password": PASSWORD})
    assert refused.status_code != 302
    assert db.session.get(PrivacyRequest, request.id).status == RequestStatus.DONE
    erased = last_audit("privacy.erased")
    assert erased.actor_id == manager.id and erased.target_id == str(user.id)
    assert "Иванова" not in json.dumps(erased.details, ensure_ascii=False)


def test_erasure_of_the_only_administrator_is_refused_and_changes_nothing(app, admin):
    lone = make_organisation(name='ООО "Одна аптека"')
    owner = make_user(lone, login="owner")
    limited = make_user(lone, ALL_POWERS - {Power.MANAGE_USERS}, login="limited")
    request = open_request(owner, RequestKind.ERASURE)
    db.session.commit()
    staff = signed_in(app, admin)
    response = staff.post(f"/backoffice/privacy/requests/{request.id}", data={"decision": "done"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "единственный действующий администратор" in page and "Одна аптека" in page
    user = db.session.get(User, owner.id)
    assert user.login == "owner" and user.email == "owner@example.org" and user.is_active
    assert db.session.get(PrivacyRequest, request.id).status == RequestStatus.OPEN
    assert audit_count("privacy.erased") == 0 and audit_count("privacy.request_closed") == 0
    # A colleague without the power to manage users does not count as a second administrator;
    # the refusal is shown to the person too.
    assert erasure.erasure_blockers(db.session.get(User, limited.id)) == []
    mine = signed_in(app, owner).get("/profile/personal-data").get_data(as_text=True)
    assert "единственный действующий администратор" in mine


def test_the_erase_command_is_refused_for_the_only_admin_and_idempotent_otherwise(app, person):
    runner = app.test_cli_runner()
    lone = make_organisation()
    owner = make_user(lone, login="owner")
    refused = runner.invoke(args=["privacy", "erase", "--user-id", str(owner.id)])
    assert refused.exit_code == 1 and "единственный действующий администратор" in refused.output
    assert db.session.get(User, owner.id).login == "owner"

    open_request(person, RequestKind.ERASURE)
    db.session.commit()
    first = runner.invoke(args=["privacy", "erase", "--user-id", str(person.id)])
    assert first.exit_code == 0, first.output
    assert f"user {person.id} erased" in first.output
    db.session.expire_all()
    user = db.session.get(User, person.id)
    snapshot = (user.full_name, user.email, user.login, user.session_token)
    assert snapshot[1] == f"erased-{person.id}@erased.invalid"
    assert db.session.scalar(select(PrivacyRequest.status)) == RequestStatus.DONE

    again = runner.invoke(args=["privacy", "erase", "--user-id", str(person.id)])
    assert again.exit_code == 0 and "already erased" in again.output
    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert (user.full_name, user.email, user.login, user.session_token) == snapshot
    assert audit_count("privacy.erased") == 1
    missing = runner.invoke(args=["privacy", "erase", "--user-id", "999999"])
    assert missing.exit_code == 1 and "no user" in missing.output
