"""Mail through a real SMTP server (aiosmtpd on localhost), read back as the recipient sees it."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from portal.extensions import db
from portal.mail import send_mail
from tests.onboarding.test_apply import VALID


class Inbox(Message):
    def __init__(self):
        super().__init__(message_class=email.message.EmailMessage)
        self.messages = []

    def handle_message(self, message):
        self.messages.append(email.message_from_bytes(bytes(message), policy=email.policy.default))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    yield inbox
    app.config.update(SMTP_HOST=None)
    controller.stop()


def test_application_confirmation_arrives_over_smtp(client, smtp_server):
    client.post("/apply", data=VALID)
    (message,) = smtp_server.messages
    assert message["To"] == VALID["email"]
    assert message["Subject"] == "Ваша заявка на рассмотрении"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Здравствуйте, Орлова Анна Игоревна!" in plain
    assert "<p>" in html and "Орлова" in html


def test_nothing_is_sent_when_the_change_is_rolled_back(app, smtp_server):
    with app.test_request_context():
        send_mail(
            "someone@example.org",
            "Тема",
            "application_rejected",
            "ru",
            application=type("A", (), {"representative_name": "X", "reference": "A-1"}),
            reason="-",
        )
        db.session.rollback()
        db.session.commit()
    assert smtp_server.messages == []


def test_english_recipient_gets_english_mail(app, smtp_server):
    from portal.accounts.models import User

    with app.test_request_context():
        user = User(login="en", email="en@example.org", full_name="John Smith", language="en")
        db.session.add(user)
        db.session.flush()
        from portal.accounts.services import send_set_password_link

        send_set_password_link(user)
        db.session.commit()
    (message,) = smtp_server.messages
    assert message["Subject"] == "Set your password for the supplier portal"
    assert "Hello, John Smith!" in message.get_body(preferencelist=("plain",)).get_content()


def test_mail_renders_outside_a_request(app, outbox):
    """CLI commands and the background worker send mail with no request around them."""
    from portal.accounts.models import User
    from portal.accounts.services import send_set_password_link

    with app.app_context():
        user = User(login="cli", email="cli@example.org", full_name="Из командной строки")
        db.session.add(user)
        db.session.flush()
        send_set_password_link(user)
        db.session.commit()
    (message,) = outbox.to("cli@example.org")
    assert "/password/set/" in outbox.text(message)
