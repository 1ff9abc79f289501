from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.notifications.models import Notification
from portal.organisations.models import ALL_POWERS, Power
from portal.tickets.models import Ticket, TicketAttachment
from tests.documents.files import EXECUTABLE_BYTES, PDF_BYTES, download, file
from tests.factories import login, make_user
from tests.html import shown, table_rows


def new_ticket(client, ticket_type="question", **fields):
    data = {"title": "Когда поставка?", "body": "Подскажите срок поставки.", **fields}
    return client.post(
        f"/tickets/new?type={ticket_type}", data=data, content_type="multipart/form-data"
    )


def tickets():
    return db.session.scalars(select(Ticket)).all()


def test_question_is_created_with_history_and_attachment(login_as, buyer, pharmacy, manager):
    pharmacy.manager_id = manager.id
    db.session.commit()
    client = login_as(buyer)
    response = new_ticket(client, attachments=[file(PDF_BYTES, "скан.pdf")])
    assert response.status_code == 302
    [ticket] = tickets()
    assert ticket.status == "new" and ticket.assigned_to_id == manager.id
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Подскажите срок поставки." in page and "скан.pdf" in page and "новая" in page
    [attachment] = db.session.scalars(select(TicketAttachment)).all()
    got = download(client, f"/tickets/{ticket.id}/files/{attachment.id}")
    assert got.data == PDF_BYTES and got.headers["X-Content-Type-Options"] == "nosniff"
    assert db.session.scalars(select(Notification).where(Notification.user_id == manager.id)).all()
    # The manager's download of the customer's file is recorded (who, which ticket, which file).
    staff = client.application.test_client()
    login(staff, manager)
    assert (
        download(staff, f"/backoffice/tickets/{ticket.id}/files/{attachment.id}").data == PDF_BYTES
    )
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tickets.attachment_downloaded_by_staff")
    ).one()
    assert event.actor_id == manager.id and event.target_id == str(ticket.id)
    assert event.details == {"attachment_id": attachment.id}


def test_type_specific_fields_are_required(login_as, buyer):
    client = login_as(buyer)
    response = new_ticket(client, "meter_verification")
    assert response.status_code == 422
    assert "Обязательное поле для обращения этого типа" in response.get_data(as_text=True)
    assert tickets() == []
    response = new_ticket(client, "meter_verification", meter_serial="СГ-16 №123")
    assert response.status_code == 302
    assert tickets()[0].details == {"meter_serial": "СГ-16 №123"}


def test_bad_attachment_refuses_the_whole_ticket(login_as, buyer):
    client = login_as(buyer)
    response = new_ticket(
        client, attachments=[file(PDF_BYTES, "ok.pdf"), file(EXECUTABLE_BYTES, "x.pdf")]
    )
    assert response.status_code == 422
    assert "Принимаются только файлы PDF" in response.get_data(as_text=True)
    assert tickets() == []
    assert db.session.scalars(select(TicketAttachment)).all() == []


def test_return_form_prefilled_from_order_link(login_as, buyer, pharmacy, orders_registered):
    client = login_as(buyer)
    order_id = orders_registered(pharmacy, 3)
    page = client.get(f"/tickets/new?type=return&order_id={order_id}").get_data(as_text=True)
    assert f'value="{order_id}"' in page
    response = new_ticket(
        client,
        "return",
        order_id=str(order_id),
        return_reason="defect",
        return_items="Аспирин 10 уп.",
    )
    assert response.status_code == 302
    [ticket] = tickets()
    assert (ticket.subject_kind, ticket.subject_id) == ("order", order_id)
    assert f"Заказ №{order_id}" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_return_on_another_organisations_order_is_refused(
    login_as, buyer, other_pharmacy, orders_registered
):
    client = login_as(buyer)
    foreign = orders_registered(other_pharmacy, 1)
    response = new_ticket(
        client, "return", order_id=str(foreign), return_reason="defect", return_items="1 уп."
    )
    assert response.status_code == 422
    assert "нет такого объекта" in response.get_data(as_text=True)
    assert tickets() == []


def test_return_on_an_order_that_does_not_exist_is_refused(login_as, buyer):
    client = login_as(buyer)
    response = new_ticket(
        client, "return", order_id="5", return_reason="defect", return_items="1 уп."
    )
    assert response.status_code == 422
    assert tickets() == []


def test_conversation_to_resolution_with_mail_and_notices(client, outbox, buyer, pharmacy, manager):
    login(client, buyer)
    new_ticket(client)
    [ticket] = tickets()
    staff = client.application.test_client()
    login(staff, manager)
    assert "Когда поставка?" in staff.get("/backoffice/tickets").get_data(as_text=True)
    staff.post(
        f"/backoffice/tickets/{ticket.id}",
        data={"body": "Уточните адрес.", "status": "waiting_for_customer", "submit": "1"},
    )
    assert db.session.get(Ticket, ticket.id).status == "waiting_for_customer"
    [mail] = outbox.to(buyer.email)
    assert "Уточните адрес." in outbox.text(mail)
    assert f"/tickets/{ticket.id}" in outbox.links(mail)[0]

    client.post(f"/tickets/{ticket.id}", data={"body": "Москва, ул. Тестовая, 1"})
    assert db.session.get(Ticket, ticket.id).status == "in_progress"

    staff.post(
        f"/backoffice/tickets/{ticket.id}",
        data={"body": "Поставка в среду.", "status": "resolved", "submit": "1"},
    )
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    for text in ("Уточните адрес.", "Москва, ул. Тестовая, 1", "Поставка в среду.", "решена"):
        assert text in page
    assert len(outbox.to(buyer.email)) == 2
    notices = db.session.scalars(select(Notification).where(Notification.user_id == buyer.id))
    assert len(notices.all()) == 2
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tickets.status_changed")
    ).all()

    client.post(f"/tickets/{ticket.id}/close")
    assert db.session.get(Ticket, ticket.id).status == "closed"
    refused = client.post(f"/tickets/{ticket.id}", data={"body": "ещё"})
    assert refused.status_code == 422 and "Обращение закрыто" in refused.get_data(as_text=True)


def test_answer_without_mail_when_the_customer_opted_out(client, outbox, buyer, manager):
    buyer.notify_request_answers = False
    db.session.commit()
    login(client, buyer)
    new_ticket(client)
    [ticket] = tickets()
    staff = client.application.test_client()
    login(staff, manager)
    staff.post(f"/backoffice/tickets/{ticket.id}", data={"body": "Ответ", "submit": "1"})
    assert outbox.to(buyer.email) == []
    assert db.session.scalars(select(Notification).where(Notification.user_id == buyer.id)).all()


def test_refused_hand_over_shows_the_ticket_again_and_changes_nothing(client, buyer, manager):
    login(client, buyer)
    new_ticket(client)
    [ticket] = tickets()
    responsible = ticket.assigned_to_id
    staff = client.application.test_client()
    login(staff, manager)
    response = staff.post(f"/backoffice/tickets/{ticket.id}/assign", data={"assignee": "999999"})
    assert response.status_code == 422  # the request's page again, with the field refused
    assert 'data-testid="ticket-status"' in response.get_data(as_text=True)
    assert 'class="form-select is-invalid"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assigned_to_id == responsible
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "tickets.assigned")).all()
        == []
    )


def test_customer_cannot_change_status(client, buyer):
    login(client, buyer)
    new_ticket(client)
    [ticket] = tickets()
    client.post(f"/tickets/{ticket.id}", data={"body": "x", "status": "resolved"})
    assert db.session.get(Ticket, ticket.id).status == "new"


def test_assignment_is_audited_and_notified(client, buyer, manager):
    other_manager = make_user(login="manager2", staff_role="manager")
    login(client, buyer)
    new_ticket(client)
    [ticket] = tickets()
    staff = client.application.test_client()
    login(staff, manager)
    staff.post(f"/backoffice/tickets/{ticket.id}/assign", data={"assignee": str(other_manager.id)})
    assert db.session.get(Ticket, ticket.id).assigned_to_id == other_manager.id
    assert db.session.scalars(
        select(Notification).where(Notification.user_id == other_manager.id)
    ).all()
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tickets.assigned")
    ).all()


def test_tickets_need_the_power_and_stay_in_the_organisation(client, pharmacy, other_pharmacy):
    author = make_user(pharmacy)
    login(client, author)
    new_ticket(client)
    [ticket] = tickets()
    no_power = client.application.test_client()
    login(no_power, make_user(pharmacy, ALL_POWERS - {Power.CREATE_REQUESTS}))
    assert no_power.get("/tickets/").status_code == 403
    assert new_ticket(no_power).status_code == 403
    stranger = client.application.test_client()
    login(stranger, make_user(other_pharmacy))
    assert stranger.get(f"/tickets/{ticket.id}").status_code == 404
    titles = [row[2] for row in table_rows(shown(client.get("/tickets/"))) if len(row) > 2]
    assert any("Когда поставка?" in title for title in titles)  # the author's list shows it
    assert [row for row in table_rows(shown(stranger.get("/tickets/"))) if len(row) > 2] == []


def test_ticket_is_a_subject_for_uploads(login_as, buyer, other_pharmacy):
    client = login_as(buyer)
    new_ticket(client)
    [ticket] = tickets()
    response = client.post(
        "/documents/scans/new",
        data={
            "category": "other",
            "subject_kind": "ticket",
            "subject_id": str(ticket.id),
            "file": file(PDF_BYTES, "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    stranger = client.application.test_client()
    login(stranger, make_user(other_pharmacy))
    refused = stranger.post(
        "/documents/scans/new",
        data={
            "category": "other",
            "subject_kind": "ticket",
            "subject_id": str(ticket.id),
            "file": file(PDF_BYTES, "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
