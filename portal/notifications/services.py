from flask_babel import force_locale
from sqlalchemy import func, select, update

from portal.database import utcnow
from portal.extensions import db
from portal.notifications.models import Notification


def notify(user, title, *, body=None, link=None, organisation=None) -> Notification:
    """Put a notice under the user's bell (saved with the current transaction).

    Lazy-translated title and body are rendered in the recipient's language, not the sender's.
    """
    with force_locale(user.language or "ru"):
        title = str(title)
        body = str(body) if body is not None else None
    notice = Notification(
        user_id=user.id,
        title=title[:200],
        body=body,
        link=link,
        organisation_id=getattr(organisation, "id", organisation),
    )
    db.session.add(notice)
    return notice


def unread_count(user) -> int:
    """The number under the bell: read with the user when the request began, else now."""
    if user.unread_notifications is not None:
        return user.unread_notifications
    return db.session.scalar(select(unread_count_of(user.id)))


def unread_count_of(user_id):
    """A subquery counting the user's unread notices (user_id: a value or a column)."""
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def for_user(user):
    """The user's notices, newest first (a query, for pagination)."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def recent(user, limit=50):
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(user, notification_id=None) -> None:
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=utcnow()))
