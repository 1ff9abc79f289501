"""Reading reminders: an e-mail near the window's close to whoever still owes a reading."""

from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.metering.models import ReadingReminder
from portal.metering.readings import meters_without_reading
from portal.metering.window import submission_window
from portal.organisations.models import Membership, Organisation, OrganisationKind, Power


def send_reading_reminders(today: date | None = None, *, days_before=None) -> int:
    """E-mail members who submit readings when meters lack this month's reading near the close."""
    from portal.accounts.models import User
    from portal.mail import send_mail

    today = today or clock.local_today()
    window = submission_window(today)
    days_before = int(
        days_before
        if days_before is not None
        else current_app.config.get("READING_REMINDER_DAYS", 2)
    )
    if not (window.closes - timedelta(days=days_before) <= today <= window.closes):
        return 0
    sent = 0
    organisations = db.session.scalars(
        select(Organisation).where(
            Organisation.kind == OrganisationKind.GAS, Organisation.is_active.is_(True)
        )
    )
    for organisation in organisations:
        missing = meters_without_reading(organisation.id, window.period)
        if not missing:
            continue
        members = db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.is_blocked.is_(False),
                User.notify_reading_reminders.is_(True),
            )
        )
        for membership in members:
            user = membership.user
            if not membership.has(Power.SUBMIT_READINGS) or not user.is_active:
                continue
            already = db.session.scalar(
                select(ReadingReminder.id).where(
                    ReadingReminder.user_id == user.id,
                    ReadingReminder.organisation_id == organisation.id,
                    ReadingReminder.period == window.period,
                )
            )
            if already:
                continue
            db.session.add(
                ReadingReminder(
                    user_id=user.id, organisation_id=organisation.id, period=window.period
                )
            )
            send_mail(
                user.email,
                _l("Meter readings are due by %(date)s", date=window.closes.strftime("%d.%m.%Y")),
                "metering/mail/reading_reminder",
                user.language,
                user=user,
                organisation=organisation,
                window=window,
                missing=missing,
            )
            sent += 1
    db.session.flush()
    return sent
