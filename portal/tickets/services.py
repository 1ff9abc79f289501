"""Requests («обращения»): creation by type, comments both sides, statuses with history."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit
from portal.accounts.models import StaffRole, User
from portal.database import utcnow
from portal.documents import storage
from portal.documents.subjects import SubjectError, resolve_subject
from portal.errors import UserError
from portal.extensions import db
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.tickets.forms import TYPE_FIELDS
from portal.tickets.models import (
    OPEN_STATUSES,
    EventKind,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketStatus,
    TicketType,
)


def subject_label(organisation, kind, reference) -> str | None:
    """How the form names a pre-filled reference ("Order 2611-000001"), if it is theirs."""
    try:
        return resolve_subject(organisation.id, kind, reference).label
    except SubjectError:
        return None


# Which subject kind each reference field of the forms points to.
SUBJECT_FIELDS = {"order_id": "order", "contract_id": "contract"}
MAX_ATTACHMENTS = 10


def _files(files):
    return [f for f in (files or []) if f is not None and getattr(f, "filename", "")]


def _store_attachments(ticket, event, user, files, field="attachments"):
    files = _files(files)
    if len(files) > MAX_ATTACHMENTS:
        raise UserError(_l("At most 10 files at once."), field)
    stored = []
    try:
        for file_storage in files:
            stored.append(storage.store_upload(file_storage))
    except storage.FileRefused as error:
        for saved in stored:  # keep nothing from a refused request
            storage.discard(saved.stored_name)
        raise UserError(
            _l("%(name)s: %(reason)s", name=file_storage.filename, reason=error.message), field
        ) from error
    for saved in stored:
        attachment = TicketAttachment(
            ticket_id=ticket.id, event_id=event.id, uploaded_by_id=user.id
        )
        attachment.set_file(saved)
        db.session.add(attachment)
    return stored


def create_ticket(organisation, user, ticket_type, *, title, body, fields, files=()) -> Ticket:
    """Open a request of a type with its own fields; references must be the organisation's."""
    if ticket_type not in TicketType.__members__.values():
        raise UserError(_l("Choose the type of request."), "title")
    required, optional = TYPE_FIELDS[TicketType(ticket_type)]
    for name in required:
        if fields.get(name) in (None, ""):
            raise UserError(_l("This field is required for this type of request."), name)
    subject = None
    for name in required + optional:
        if name in SUBJECT_FIELDS and fields.get(name) not in (None, ""):
            try:
                subject = resolve_subject(organisation.id, SUBJECT_FIELDS[name], fields[name])
            except SubjectError as error:
                raise UserError(error.message, name) from error
    details = {
        name: (value.isoformat() if hasattr(value, "isoformat") else value)
        for name in required + optional
        if name not in SUBJECT_FIELDS and (value := fields.get(name)) not in (None, "")
    }
    ticket = Ticket(
        organisation_id=organisation.id,
        type=ticket_type,
        title=title.strip(),
        details=details,
        subject_kind=subject.kind if subject else None,
        subject_id=subject.object_id if subject else None,
        subject_label=subject.label[:200] if subject else None,
        status=TicketStatus.NEW,
        created_by_id=user.id,
        assigned_to_id=organisation.manager_id,
    )
    db.session.add(ticket)
    db.session.flush()
    event = TicketEvent(
        ticket_id=ticket.id,
        author_id=user.id,
        kind=EventKind.CREATED,
        to_status=TicketStatus.NEW,
        body=body.strip(),
    )
    db.session.add(event)
    db.session.flush()
    _store_attachments(ticket, event, user, files)
    _notify_staff(ticket, _l("New request №%(number)s", number=ticket.id))
    return ticket


def _locked(ticket) -> Ticket:
    # populate_existing: re-read the locked row, not the copy this session loaded earlier.
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def add_comment(ticket, author, *, body=None, new_status=None, files=()) -> TicketEvent:
    """A message from either side; staff may change the status with it. Notifies the other side."""
    ticket = _locked(ticket)
    body = (body or "").strip() or None
    if ticket.status == TicketStatus.CLOSED:
        raise UserError(_l("The request is closed; open a new one."), "body")
    if not body and not _files(files) and not new_status:
        raise UserError(_l("Write a message or attach a file."), "body")
    by_staff = author.is_staff
    if new_status and not by_staff:
        raise UserError(_l("Only the supplier changes the status."), "status")
    if new_status and new_status not in TicketStatus.__members__.values():
        raise UserError(_l("Choose a status."), "status")
    previous = ticket.status
    if by_staff:
        target = new_status or (
            TicketStatus.IN_PROGRESS if previous == TicketStatus.NEW else previous
        )
    else:
        # The customer's reply puts the request back into the supplier's hands.
        reopened = (TicketStatus.WAITING_FOR_CUSTOMER, TicketStatus.RESOLVED)
        target = TicketStatus.IN_PROGRESS if previous in reopened else previous
    event = TicketEvent(
        ticket_id=ticket.id,
        author_id=author.id,
        kind=EventKind.COMMENT if body or _files(files) else EventKind.STATUS,
        from_status=previous if target != previous else None,
        to_status=target if target != previous else None,
        body=body,
        by_staff=by_staff,
    )
    db.session.add(event)
    db.session.flush()
    _store_attachments(ticket, event, author, files)
    ticket.status = target
    ticket.updated_at = utcnow()
    if by_staff:
        if target != previous:
            audit.record(
                "tickets.status_changed",
                target=ticket,
                organisation=ticket.organisation_id,
                from_status=previous,
                to_status=target,
            )
        if ticket.assigned_to_id is None:
            ticket.assigned_to_id = author.id
        _notify_customer(ticket, event)
    else:
        _notify_staff(ticket, _l("Reply in request №%(number)s", number=ticket.id))
    db.session.flush()
    return event


def close_by_customer(ticket, user) -> None:
    ticket = _locked(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise UserError(_l("The request is already closed."))
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            author_id=user.id,
            kind=EventKind.STATUS,
            from_status=ticket.status,
            to_status=TicketStatus.CLOSED,
        )
    )
    ticket.status = TicketStatus.CLOSED
    ticket.updated_at = utcnow()
    _notify_staff(ticket, _l("Request №%(number)s closed by the customer", number=ticket.id))
    db.session.flush()


def assign(ticket, staff_user, assignee_id) -> None:
    assignee = db.session.get(User, int(assignee_id))
    if assignee is None or not assignee.is_staff or not assignee.is_active:
        raise UserError(_l("Choose a manager."), "assignee")
    ticket = _locked(ticket)
    ticket.assigned_to_id = assignee.id
    ticket.updated_at = utcnow()
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            author_id=staff_user.id,
            kind=EventKind.ASSIGNED,
            body=assignee.full_name,
            by_staff=True,
        )
    )
    audit.record(
        "tickets.assigned", target=ticket, organisation=ticket.organisation_id, to=assignee.id
    )
    if assignee.id != staff_user.id:
        notify(
            assignee,
            _l("Request №%(number)s assigned to you", number=ticket.id),
            link=url_for("tickets.staff_ticket", ticket_id=ticket.id),
            organisation=ticket.organisation_id,
        )
    db.session.flush()


def _notify_customer(ticket, event):
    """Every answer reaches the author: under the bell always, by e-mail if they want it."""
    author = ticket.created_by
    link = url_for("tickets.show_ticket", ticket_id=ticket.id)
    notify(
        author,
        _l("Answer in request №%(number)s", number=ticket.id),
        body=event.body,
        link=link,
        organisation=ticket.organisation_id,
    )
    if author.notify_request_answers and author.is_active:
        send_mail(
            author.email,
            _l("Answer in request №%(number)s", number=ticket.id),
            "tickets/mail/answer",
            author.language,
            ticket=ticket,
            event=event,
            status_label=TicketStatus(ticket.status).label,
            link=link,
        )


def _notify_staff(ticket, title):
    recipient = ticket.assigned_to or ticket.organisation.manager
    if recipient is not None:
        notify(
            recipient,
            title,
            body=ticket.title,
            link=url_for("tickets.staff_ticket", ticket_id=ticket.id),
            organisation=ticket.organisation_id,
        )


def ticket_label(organisation_id, ticket_id) -> str | None:
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.organisation_id == organisation_id)
    )
    return f"№{ticket.id}: {ticket.title}" if ticket else None


def organisation_tickets(organisation_id, status=None):
    query = select(Ticket).where(Ticket.organisation_id == organisation_id)
    if status == "open":
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Ticket.status == status)
    return query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())


def open_tickets_for(organisation_id, limit=5):
    return db.session.scalars(organisation_tickets(organisation_id, "open").limit(limit)).all()


def staff_queue(status=None, assigned_to_id=None):
    query = select(Ticket)
    if status == "open" or not status:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(Ticket.status == status)
    if assigned_to_id:
        query = query.where(Ticket.assigned_to_id == assigned_to_id)
    return query.order_by(Ticket.updated_at, Ticket.id)


def staff_open_counts() -> dict:
    counts = dict(
        db.session.execute(
            select(Ticket.status, func.count(Ticket.id))
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.status)
        ).all()
    )
    return {"counts": counts, "total": sum(counts.values())}


def staff_users():
    return db.session.scalars(
        select(User)
        .where(User.staff_role.in_([StaffRole.MANAGER, StaffRole.ADMIN]))
        .order_by(User.full_name)
    ).all()
