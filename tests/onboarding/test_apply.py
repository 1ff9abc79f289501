from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.models import Notification
from portal.onboarding.models import Application

VALID = {
    "representative_name": "Орлова Анна Игоревна",
    "organisation_name": 'ООО "Аптека на Садовой"',
    "email": "orlova@sadovaya.example.org",
    "phone": "8 (812) 123-45-67",
    "region": "Санкт-Петербург",
    "kind": "pharmacy",
    "inn": "7707083893",
    "ogrn": "1027700132195",
    "licence_number": "ЛО-78-02-012345",
    "comment": "Сеть из трёх аптек",
    # The separate consent to processing for reviewing the application, version 1 as shown.
    "consent": "y",
    "consent_version": "1",
}


def count_applications():
    return db.session.scalar(select(func.count(Application.id)))


def test_application_is_saved_confirmed_by_mail_and_managers_notified(client, manager, outbox):
    response = client.post("/apply", data=VALID, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "принята к рассмотрению" in page and "одного рабочего дня" in page
    application = db.session.scalar(select(Application))
    assert application.phone == "+78121234567"  # normalised to E.164
    assert application.status == "new"
    (mail,) = outbox.to("orlova@sadovaya.example.org")
    assert application.reference in outbox.text(mail)
    assert mail.get_body(preferencelist=("html",)) is not None
    notice = db.session.scalar(select(Notification).where(Notification.user_id == manager.id))
    assert "Аптека на Садовой" in notice.title


def test_wrong_inn_checksum_is_refused_and_nothing_saved(client, outbox):
    response = client.post("/apply", data={**VALID, "inn": "7707083894"})
    assert response.status_code == 422
    assert "контрольн" in response.get_data(as_text=True)
    assert count_applications() == 0
    assert outbox.messages() == []


def test_malformed_email_phone_and_ogrn_are_refused(client):
    response = client.post(
        "/apply", data={**VALID, "email": "orlova@", "phone": "12", "ogrn": "1027700132196"}
    )
    page = response.get_data(as_text=True)
    assert page.count("invalid-feedback") >= 3
    assert count_applications() == 0


def test_second_open_application_for_the_same_inn_is_refused(client):
    client.post("/apply", data=VALID)
    again = client.post("/apply", data={**VALID, "email": "other@sadovaya.example.org"})
    assert "уже рассматривается" in again.get_data(as_text=True)
    assert count_applications() == 1


def test_existing_client_inn_is_refused(client, pharmacy):
    response = client.post("/apply", data={**VALID, "inn": pharmacy.inn})
    assert "уже является нашим клиентом" in response.get_data(as_text=True)
    assert count_applications() == 0


def test_missing_csrf_token_is_refused(client):
    response = client.post("/apply", data=VALID, csrf=False)
    assert response.status_code == 400
    assert count_applications() == 0


def test_rate_limit_stops_a_flood(client, app):
    statuses = []
    for n in range(7):
        data = {**VALID, "inn": f"77070838{n:02d}"}
        statuses.append(client.post("/apply", data=data).status_code)
    assert 429 in statuses
    assert statuses[:5] == [s for s in statuses[:5] if s != 429]


def test_english_interface_on_request(client):
    client.post("/language/en")
    page = client.get("/apply").get_data(as_text=True)
    assert "Become a client" in page and 'lang="en"' in page
