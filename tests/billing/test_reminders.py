"""Payment reminders through a real SMTP server: one digest per organisation and day to the
members with the finance power who want them, never twice a day, paid documents left out."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.billing import ledger
from portal.billing.models import PaymentReminder
from portal.billing.reminders import send_payment_reminders
from portal.extensions import db
from portal.money import format_rub
from portal.notifications.models import Notification
from portal.orders.models import PaymentTerms
from portal.organisations.models import Power
from tests.billing.receivable_builders import TODAY, shipped_order
from tests.factories import make_user
from tests.test_mail_smtp import smtp_server  # noqa: F401 - the real SMTP server fixture


def customer(pharmacy):
    """Two shipments 7 and 4 days overdue, one due in 3 days, one due later; three members.
    (Due days are working days: a deferral ending on a day off moves to the next one.)"""
    late, _ = shipped_order(pharmacy, TODAY - timedelta(days=37), quantity=2)  # due 08.06
    yesterday, _ = shipped_order(pharmacy, TODAY - timedelta(days=34), quantity=3)  # due 11.06
    soon, _ = shipped_order(pharmacy, TODAY - timedelta(days=27), quantity=4)  # due 18.06
    later, _ = shipped_order(pharmacy, TODAY - timedelta(days=10), quantity=5)  # due 06.07
    accountant = make_user(pharmacy, {Power.VIEW_FINANCE}, login="accountant")
    opted_out = make_user(pharmacy, {Power.VIEW_FINANCE, Power.ORDER}, login="optedout")
    opted_out.notify_payment_reminders = False
    make_user(pharmacy, {Power.ORDER}, login="orderonly")  # no finance power
    db.session.commit()
    return {"late": late, "yesterday": yesterday, "soon": soon, "later": later}, accountant


def run(app, day=TODAY, **options):
    with app.test_request_context():
        digests = send_payment_reminders(day, **options)
        db.session.commit()
    return digests


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


pytestmark = pytest.mark.usefixtures("gas_due_on_the_tenth")


def test_one_digest_lists_the_due_and_overdue_documents_with_links(
    app,
    pharmacy,
    smtp_server,  # noqa: F811
):
    orders, accountant = customer(pharmacy)
    run(app)
    (message,) = smtp_server.messages
    assert message["To"] == accountant.email
    assert message["Subject"] == (
        f"Просрочена оплата: {format_rub('500.00')}, {pharmacy.legal_name}"
    )
    text = text_of(message)
    late = orders["late"]
    assert f"Документ {late.number} от {TODAY - timedelta(days=37):%d.%m.%Y}" in text
    assert "Срок оплаты: 08.06.2026; просрочено дней: 7" in text
    assert "Срок оплаты: 11.06.2026; просрочено дней: 4" in text
    assert "Срок оплаты: 18.06.2026" in text  # due within three days: listed
    assert orders["later"].number not in text  # due on 06.07: not yet
    assert f"остаток: {format_rub('200.00')}" in text
    assert f"http://portal.test/orders/{late.id}" in text
    assert f"Всего к оплате: {format_rub('900.00')}" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="http://portal.test/orders/{late.id}"' in html and "Оплатить по QR" in html
    # And a notice under the accountant's bell, none for the others.
    notices = db.session.scalars(select(Notification)).all()
    assert [n.user_id for n in notices] == [accountant.id]
    assert notices[0].title == message["Subject"]


def test_a_member_who_opted_out_gets_nothing(app, pharmacy, smtp_server):  # noqa: F811
    customer(pharmacy)
    run(app)
    opted_out = db.session.scalar(select(User).where(User.login == "optedout"))
    assert all(opted_out.email not in m["To"] for m in smtp_server.messages)
    assert not db.session.scalars(
        select(Notification).where(Notification.user_id == opted_out.id)
    ).all()
    assert len(smtp_server.messages) == 1


def test_a_second_run_on_the_same_day_sends_nothing(app, pharmacy, smtp_server):  # noqa: F811
    customer(pharmacy)
    assert len(run(app)) == 1
    assert run(app) == []
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(select(func.count(PaymentReminder.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_a_document_paid_in_full_drops_out(app, pharmacy, smtp_server):  # noqa: F811
    orders, _accountant = customer(pharmacy)
    late = orders["late"]
    ledger.post_payment(
        pharmacy.id,
        "200.00",
        entry_date=TODAY,
        description="Оплата",
        document_number="ПП-9",
        purpose=f"Оплата по счёту № {late.number}",
    )
    db.session.commit()
    run(app)
    (message,) = smtp_server.messages
    text = text_of(message)
    assert late.number not in text and orders["yesterday"].number in text
    stored = db.session.scalar(select(PaymentReminder))
    assert late.number not in [d["number"] for d in stored.documents]


def test_no_digest_on_a_day_no_document_reaches_a_reminder_day(
    app,
    pharmacy,
    smtp_server,  # noqa: F811
):
    customer(pharmacy)
    # 16.06: the documents are 8 and 5 days overdue and 2 days from due: no reminder day.
    assert run(app, TODAY + timedelta(days=1)) == []
    assert smtp_server.messages == []


def test_everything_paid_means_no_reminder(app, pharmacy, smtp_server):  # noqa: F811
    customer(pharmacy)
    ledger.post_payment(
        pharmacy.id, "1400.00", entry_date=TODAY, description="Оплата", document_number="ПП-1"
    )
    db.session.commit()
    assert run(app) == []
    assert smtp_server.messages == []


def test_the_command_dry_run_lists_and_sends_nothing_then_sends(
    app,
    pharmacy,
    smtp_server,  # noqa: F811
):
    customer(pharmacy)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["billing", "remind", "--dry-run", "--on", TODAY.isoformat()])
    assert dry.exit_code == 0, dry.output
    assert "Would send: 1 digest(s)" in dry.output and "accountant@example.org" in dry.output
    assert smtp_server.messages == []
    assert db.session.scalar(select(func.count(PaymentReminder.id))) == 0
    sent = runner.invoke(args=["billing", "remind", "--on", TODAY.isoformat()])
    assert sent.exit_code == 0 and "Sent: 1 digest(s)" in sent.output
    assert len(smtp_server.messages) == 1
    again = runner.invoke(args=["billing", "remind", "--on", TODAY.isoformat()])
    assert "Sent: 0 digest(s)" in again.output and len(smtp_server.messages) == 1
    bad = runner.invoke(args=["billing", "remind", "--on", "15.06.2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_the_queue_job_sends_the_digest(app, pharmacy, queue, smtp_server):  # noqa: F811
    customer(pharmacy)
    queue.remind(TODAY.isoformat())
    assert queue.run_pending() == 1
    assert len(smtp_server.messages) == 1


def test_reminders_before_the_due_date_only(app, pharmacy, smtp_server):  # noqa: F811
    soon, _ = shipped_order(pharmacy, date(2026, 5, 19), quantity=1)  # due 18.06
    shipped_order(pharmacy, date(2026, 6, 15), terms=PaymentTerms.DEFERRED)  # due 15.07
    make_user(pharmacy, {Power.VIEW_FINANCE}, login="accountant")
    run(app)
    (message,) = smtp_server.messages
    assert message["Subject"] == (
        f"Срок оплаты 18.06.2026: {format_rub('100.00')}, {pharmacy.legal_name}"
    )
    assert soon.number in text_of(message)


def test_the_profile_turns_payment_reminders_off(login_as, buyer):
    client = login_as(buyer)
    assert "Напоминать о сроках оплаты" in client.get("/profile").get_data(as_text=True)
    response = client.post(
        "/profile",
        data={"full_name": buyer.full_name, "email": buyer.email, "language": "ru"},
    )
    assert response.status_code == 302
    db.session.refresh(buyer)
    assert buyer.notify_payment_reminders is False


def test_the_worker_runs_the_reminders_every_morning(queue):
    from datetime import datetime

    def due_at(hour):
        return [task.name for task in queue.huey.read_periodic(datetime(2026, 6, 15, hour, 0))]

    assert any("daily_payment_reminders" in name for name in due_at(6))  # 09:00 in Moscow
    assert not any("daily_payment_reminders" in name for name in due_at(7))


def test_the_digest_carries_each_documents_payment_qr_inside_the_mail(
    app,
    pharmacy,
    smtp_server,  # noqa: F811
):
    """Each document's QR is an image inside the message (cid:), decodable, for its open
    balance, with a purpose the bank import reads back to that invoice."""
    import io

    from PIL import Image

    zxingcpp = pytest.importorskip("zxingcpp")
    orders, _accountant = customer(pharmacy)
    run(app)
    (message,) = smtp_server.messages
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    images = {
        part["Content-ID"].strip("<>"): part.get_content()
        for part in message.walk()
        if part.get_content_type() == "image/png"
    }
    late = orders["late"]
    decoded = {}
    for content_id, png in images.items():
        assert f'src="cid:{content_id}"' in html
        (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
        decoded[content_id] = dict(field.split("=", 1) for field in result.text.split("|")[1:])
    assert len(images) == 3  # the three documents listed: two overdue, one due soon
    purposes = [fields["Purpose"] for fields in decoded.values()]
    (late_fields,) = [f for f in decoded.values() if f"№ {late.number} " in f["Purpose"]]
    assert late_fields["Sum"] == "20000"  # 200,00 ₽ open, in kopecks
    assert late_fields["PayeeINN"] == app.config["SUPPLIER"]["inn"]
    assert all("НДС" in purpose for purpose in purposes)
    # The text part names the same purpose for copying.
    assert late_fields["Purpose"] in text_of(message)


def test_no_qr_in_the_mail_without_the_suppliers_bank(
    app,
    pharmacy,
    monkeypatch,
    smtp_server,  # noqa: F811
):
    customer(pharmacy)  # shipped (with their УПД) while the requisites were complete
    monkeypatch.setitem(app.config, "SUPPLIER", dict(app.config["SUPPLIER"], bik=""))
    run(app)
    (message,) = smtp_server.messages
    assert not [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert "cid:" not in message.get_body(preferencelist=("html",)).get_content()
