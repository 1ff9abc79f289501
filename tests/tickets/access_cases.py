from portal.extensions import db
from portal.organisations.models import Power
from portal.tickets.models import Ticket, TicketAttachment, TicketEvent
from tests.access import Case
from tests.factories import make_user


def a_ticket(organisation):
    user = make_user(organisation)
    ticket = Ticket(
        organisation_id=organisation.id, type="question", title="?", created_by_id=user.id
    )
    db.session.add(ticket)
    db.session.commit()
    return {"ticket_id": ticket.id}


def an_attachment(organisation):
    ticket_id = a_ticket(organisation)["ticket_id"]
    ticket = db.session.get(Ticket, ticket_id)
    event = TicketEvent(ticket_id=ticket_id, author_id=ticket.created_by_id, kind="created")
    db.session.add(event)
    db.session.flush()
    attachment = TicketAttachment(
        ticket_id=ticket_id,
        event_id=event.id,
        uploaded_by_id=ticket.created_by_id,
        stored_name=f"ticket-access-{ticket_id}.pdf",
        original_name="a.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    db.session.add(attachment)
    db.session.commit()
    return {"ticket_id": ticket_id, "attachment_id": attachment.id}


CASES = {
    "tickets.show_ticket": Case(a_ticket, power=Power.CREATE_REQUESTS),
    "tickets.close_ticket": Case(a_ticket, power=Power.CREATE_REQUESTS),
    "tickets.download_attachment": Case(an_attachment, power=Power.CREATE_REQUESTS),
    "tickets.staff_ticket": Case(a_ticket, staff=True, curated=True),
    "tickets.assign_ticket": Case(a_ticket, staff=True, curated=True),
    "tickets.staff_download_attachment": Case(an_attachment, staff=True),
}
