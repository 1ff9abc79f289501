"""Outgoing e-mail: SMTP when configured, otherwise .eml files in the outbox folder.

Messages are queued on the database session and delivered only after it commits, so a
rolled-back change never e-mails anybody.
"""

import smtplib
import ssl
import uuid
from contextlib import nullcontext
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

OUTBOX_KEY = "portal_outbox"


def build_message(to: str, subject, template: str, language: str = "ru", images=None, **context):
    """Render <template>.txt and .html in the recipient's language.

    A bare name means templates/mail/<name>; a domain keeps its own as "<domain>/mail/<name>".
    `images` ({content id: PNG bytes}) go inside the message beside the HTML, which shows
    them as <img src="cid:…"> (mail programs block remote and data: images).
    """
    path = template if "/" in template else f"mail/{template}"
    base_url = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    # CLI commands and the worker have no request: links are built against the public URL.
    request_context = (
        nullcontext()
        if has_request_context()
        else current_app.test_request_context(base_url=base_url)
    )
    with request_context, force_locale(language or "ru"):
        context.setdefault("base_url", base_url)
        text = render_template(f"{path}.txt", **context)
        html = render_template(f"{path}.html", **context)
        subject = str(subject)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="portal.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if images:
        html_part = message.get_payload()[-1]
        for content_id, png in images.items():
            html_part.add_related(png, "image", "png", cid=f"<{content_id}>")
    return message


def send_mail(to: str | None, subject, template: str, language: str = "ru", images=None, **context):
    """Queue a message for delivery when the current transaction commits."""
    if not to:
        return None
    return queue_message(build_message(to, subject, template, language, images, **context))


def queue_message(message: EmailMessage) -> EmailMessage:
    """Queue a built message (build_message) for delivery when the current transaction
    commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even of an untouched session, discards it
    session.info.setdefault(OUTBOX_KEY, []).append((current_app._get_current_object(), message))
    return message


def deliver(app, message: EmailMessage) -> None:
    config = app.config
    if config.get("SMTP_HOST"):
        smtp_class = smtplib.SMTP_SSL if config.get("SMTP_SSL") else smtplib.SMTP
        with smtp_class(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
        app.logger.info("mail sent to %s: %s", message["To"], message["Subject"])
        return
    outbox = Path(config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    app.logger.info("mail to %s written to %s: %s", message["To"], path, message["Subject"])


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    for app, message in session.info.pop(OUTBOX_KEY, []):
        from portal.jobs.tasks import queue_mail

        if queue_mail(app, message):  # a worker sends it (PORTAL_MAIL_QUEUE)
            continue
        try:
            deliver(app, message)
        except (OSError, smtplib.SMTPException):
            # The change is committed; a mail failure must not turn it into an error page.
            app.logger.exception("could not deliver mail to %s", message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session, previous_transaction):
    # Any rollback of the whole transaction (even one that had not touched the database yet)
    # discards the queued mail; a rolled-back savepoint leaves it alone.
    if not previous_transaction.nested:
        session.info.pop(OUTBOX_KEY, None)
