"""Retention: what is past its period goes (rows and stored files), what is recent stays;
and staff exports of people's data are audited."""

import io
from datetime import date, timedelta

import pytest
from huey import SqliteHuey
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.accounts.models import LoginAttempt
from portal.billing.queue import build_queue
from portal.extensions import db
from portal.metering.models import Reading
from portal.metering.services import photo_key
from portal.onboarding.models import Application, ApplicationEvent
from portal.privacy import retention
from tests import stored
from tests.factories import login, make_user, valid_inn
from tests.metering.helpers import add_reading, make_meter
from tests.privacy.helpers import audit_count, days_ago, last_audit

TODAY = date(2026, 11, 20)


@pytest.fixture
def pinned_today(tax_day):
    return tax_day(TODAY)


def an_application(n, status, *, decided_days_ago=None, **fields):
    application = Application(
        representative_name=f"Петров Пётр {n}",
        organisation_name=f'ООО "Заявитель {n}"',
        email=f"applicant{n}@example.org",
        phone="+74951234567",
        region="Москва",
        kind="pharmacy",
        inn=valid_inn(7000 + n),
        status=status,
        reviewed_at=days_ago(decided_days_ago) if decided_days_ago is not None else None,
        **fields,
    )
    application.events.append(ApplicationEvent(action="submitted"))
    db.session.add(application)
    db.session.flush()
    return application


def a_photo_reading(meter, day, name):
    reading = add_reading(meter, day, 100)
    stored.put(photo_key(name), b"\x89PNG\r\n\x1a\n a meter photo")
    reading.photo_name = name
    return reading


@pytest.fixture
def history(gas_org, pinned_today):
    """Old and recent rows of every category (default periods: 365, 365 and 1095 days)."""
    old_rejected = an_application(1, "rejected", decided_days_ago=400)
    recent_rejected = an_application(2, "rejected", decided_days_ago=30)
    old_approved = an_application(3, "approved", decided_days_ago=900)
    old_open = an_application(4, "new", created_at=days_ago(800))
    user = make_user(gas_org)
    for login_key, ip, age in (("old", "10.0.0.1", 400), ("new", "10.0.0.2", 10)):
        db.session.add(
            LoginAttempt(
                login_key=login_key, user_id=user.id, succeeded=True, ip=ip, at=days_ago(age)
            )
        )
    meter = make_meter(gas_org)
    old_photo = a_photo_reading(meter, TODAY - timedelta(days=1200), "old.png")
    recent_photo = a_photo_reading(meter, TODAY - timedelta(days=40), "recent.png")
    db.session.commit()
    return {
        "old_rejected": old_rejected.id,
        "recent_rejected": recent_rejected.id,
        "kept_applications": {recent_rejected.id, old_approved.id, old_open.id},
        "old_photo": old_photo.id,
        "recent_photo": recent_photo.id,
    }


def test_the_retention_command_deletes_what_is_past_its_period_and_keeps_the_rest(app, history):
    result = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "rejected_applications: 1 rejected applications deleted" in result.output
    assert "sign_in_attempts: 1 sign-in attempts (with IP addresses) deleted" in result.output
    assert "reading_photos: 1 meter reading photos removed" in result.output
    assert "files removed: 1" in result.output

    db.session.expire_all()
    assert set(db.session.scalars(select(Application.id))) == history["kept_applications"]
    assert db.session.scalar(
        select(func.count(ApplicationEvent.id)).where(
            ApplicationEvent.application_id == history["old_rejected"]
        )
    ) == 0  # fmt: skip
    assert list(db.session.scalars(select(LoginAttempt.ip))) == ["10.0.0.2"]
    # The old reading stays (gas was charged on it); only its photo is gone, file and name.
    old = db.session.get(Reading, history["old_photo"])
    assert old is not None and old.photo_name is None
    assert not stored.exists(photo_key("old.png"))
    assert db.session.get(Reading, history["recent_photo"]).photo_name == "recent.png"
    assert stored.exists(photo_key("recent.png"))
    event = last_audit("privacy.retention_applied")
    assert event.details == {"rejected_applications": 1, "sign_in_attempts": 1, "reading_photos": 1}

    again = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert "rejected_applications: 0" in again.output and "files removed: 0" in again.output


def test_a_dry_run_counts_and_changes_nothing(app, history):
    result = app.test_cli_runner().invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing changed" in result.output
    assert "rejected_applications: 1 rejected applications deleted (would be" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Application.id))) == 4
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 2
    assert db.session.get(Reading, history["old_photo"]).photo_name == "old.png"
    assert stored.exists(photo_key("old.png"))
    assert audit_count("privacy.retention_applied") == 0


def test_the_periods_come_from_the_configuration(app, history, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_REJECTED_APPLICATION_DAYS", 20)
    monkeypatch.setitem(app.config, "RETENTION_LOGIN_ATTEMPT_DAYS", 5)
    report = retention.run_retention()
    assert report.counts == {
        "rejected_applications": 2,
        "sign_in_attempts": 2,
        "reading_photos": 1,
    }


def test_the_worker_applies_the_policy_from_the_queue(app, history, tmp_path, monkeypatch):
    huey = SqliteHuey("test-retention", filename=str(tmp_path / "huey.db"))
    monkeypatch.setitem(app.extensions, "statements_queue", build_queue(app, huey))
    monkeypatch.delitem(app.extensions, "privacy_retention")
    retention.register_queue_task(app)
    result = app.test_cli_runner().invoke(args=["privacy", "retention", "--enqueue"])
    assert "queued" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 2  # not yet: queued
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 1
    assert not stored.exists(photo_key("old.png"))


# --- staff exports of people's data ------------------------------------------------------------


def test_a_staff_export_of_users_is_audited_with_who_and_what(app, pharmacy, buyer, admin):
    buyer.phone = "+79161234567"
    db.session.commit()
    client = app.test_client()
    login(client, admin)
    response = client.get("/backoffice/privacy/exports/users.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Логин", "ФИО", "E-mail")
    assert ("buyer", buyer.full_name, "buyer@example.org", "+79161234567") == rows[1][:4]
    assert all(row[0] != "admin" for row in rows)  # customers only, not staff
    event = last_audit("privacy.staff_export")
    assert event.actor_id == admin.id and event.at is not None
    assert event.details["what"] == "users" and event.details["rows"] == 1


def test_a_manager_exports_only_their_customers_users(app, buyer, pharmacy, other_pharmacy):
    curator = make_user(staff_role="manager")
    pharmacy.manager_id = curator.id
    other_pharmacy.manager_id = make_user(staff_role="manager").id
    make_user(other_pharmacy, login="foreigner")
    db.session.commit()
    client = app.test_client()
    login(client, curator)
    rows = list(
        load_workbook(io.BytesIO(client.get("/backoffice/privacy/exports/users.xlsx").data))
        .active.iter_rows(values_only=True)
    )  # fmt: skip
    assert [row[0] for row in rows[1:]] == ["buyer"]


def test_a_staff_export_of_applications_is_audited_with_its_filters(app, manager, buyer):
    an_application(1, "rejected", decided_days_ago=3)
    an_application(2, "new")
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    response = client.get("/backoffice/privacy/exports/applications.xlsx?status=new")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert (
        len(rows) == 2 and rows[1][4] == "Петров Пётр 2" and rows[1][5] == "applicant2@example.org"
    )
    event = last_audit("privacy.staff_export")
    assert event.actor_id == manager.id
    assert event.details == {"what": "applications", "rows": 1, "filters": {"status": "new"}}
    assert "exports/applications.xlsx" in client.get("/backoffice/applications").get_data(
        as_text=True
    )

    customer = app.test_client()
    login(customer, buyer)
    assert customer.get("/backoffice/privacy/exports/applications.xlsx").status_code == 403
    assert customer.get("/backoffice/privacy/exports/users.xlsx").status_code == 403
    assert audit_count("privacy.staff_export") == 1
