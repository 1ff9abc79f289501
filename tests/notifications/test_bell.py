import re

from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.services import notify


def test_mark_one_notice_read_and_paginate(login_as, buyer):
    for n in range(35):
        notify(buyer, f"Уведомление {n:02d}")
    db.session.commit()
    client = login_as(buyer)
    first_page = client.get("/notifications/").get_data(as_text=True)
    assert "Уведомление 34" in first_page and "Уведомление 00" not in first_page
    assert "Уведомление 00" in client.get("/notifications/?page=2").get_data(as_text=True)
    assert "Отметить как прочитанное" in first_page
    target = db.session.scalar(select(Notification).where(Notification.title == "Уведомление 34"))
    client.post("/notifications/read", data={"notification_id": str(target.id)})
    unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None))).all()
    assert len(unread) == 34 and target not in unread


def test_cannot_mark_another_users_notice(login_as, buyer, other_pharmacy):
    from tests.factories import make_user

    stranger = make_user(other_pharmacy)
    notice = notify(stranger, "Чужое")
    db.session.commit()
    client = login_as(buyer)
    client.post("/notifications/read", data={"notification_id": str(notice.id)})
    assert db.session.get(Notification, notice.id).read_at is None


def bell(page: str) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', page)
    return found.group(1) if found else None


def test_the_bell_counts_only_own_unread_notices(login_as, buyer, other_pharmacy):
    from tests.factories import make_user

    notify(make_user(other_pharmacy), "Чужое")
    for n in range(3):
        notify(buyer, f"Своё {n}")
    db.session.commit()
    client = login_as(buyer)
    assert bell(client.get("/notifications/").get_data(as_text=True)) == "3"
    client.post("/notifications/read", data={})  # all of them
    assert bell(client.get("/notifications/").get_data(as_text=True)) is None
    notify(buyer, "Новое")
    db.session.commit()
    assert bell(client.get("/catalog/").get_data(as_text=True)) == "1"
