"""One account per e-mail address whatever its case, enforced by the database too."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.extensions import db
from tests.factories import login, make_user


def test_profile_refuses_an_email_taken_in_another_case(client, buyer, pharmacy):
    other = make_user(pharmacy, login="other", email="other@example.org")
    login(client, other)
    response = client.post(
        "/profile",
        data={"full_name": "Другой", "email": "  BUYER@Example.org ", "language": "ru"},
    )
    assert response.status_code in (200, 422)
    page = response.get_data(as_text=True)
    assert "Этот e-mail уже используется другой учётной записью" in page
    assert 'aria-invalid="true"' in page or "is-invalid" in page  # next to the field
    db.session.refresh(other)
    assert other.email == "other@example.org"


def test_profile_stores_the_address_in_lower_case(client, buyer):
    login(client, buyer)
    client.post(
        "/profile",
        data={"full_name": "Покупатель", "email": " New.Buyer@Example.ORG", "language": "ru"},
    )
    db.session.refresh(buyer)
    assert buyer.email == "new.buyer@example.org"


def test_the_database_refuses_a_second_account_with_the_same_email_in_another_case(buyer):
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (login, email, full_name, must_change_password, is_active,"
                " language, session_token, totp_enabled, totp_failures, notify_order_status,"
                " notify_request_answers, notify_reading_reminders, notify_news, created_at)"
                " VALUES ('twin', 'BUYER@EXAMPLE.ORG', 'Двойник', false, true, 'ru',"
                " 'token', false, 0, true, true, true, false, CURRENT_TIMESTAMP)"
            )
        )
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
