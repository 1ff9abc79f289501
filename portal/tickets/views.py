from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit
from portal.accounts.forms import ConfirmForm
from portal.documents import storage
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations.models import Power
from portal.security import access, current_organisation, get_scoped_or_404
from portal.tickets import bp, services
from portal.tickets.forms import (
    ATTACHMENT_HINT,
    DETAIL_LABELS,
    RETURN_REASONS,
    STATUS_LABELS,
    TYPE_FIELDS,
    TYPE_HINTS,
    TYPE_LABELS,
    AssignForm,
    CommentForm,
    StaffCommentForm,
    TicketForm,
)
from portal.tickets.models import Ticket, TicketAttachment, TicketStatus, TicketType

LABELS = {
    "type_labels": TYPE_LABELS,
    "status_labels": STATUS_LABELS,
    "return_reasons": RETURN_REASONS,
    "attachment_hint": ATTACHMENT_HINT,
    "form_labels": DETAIL_LABELS,
}


def _add_error(form, error, default="body"):
    field = getattr(form, error.field or default, None) or getattr(form, default)
    field.errors = list(field.errors) + [str(error.message)]


# --- customer side -------------------------------------------------------------------------


@bp.route("/tickets/")
@access.power(Power.CREATE_REQUESTS)
def list_tickets():
    status = request.args.get("status") or None
    page = db.paginate(
        services.organisation_tickets(current_organisation().id, status),
        per_page=25,
        error_out=False,
    )
    return render_template("tickets/list.html", page=page, status=status, **LABELS)


@bp.route("/tickets/new", methods=["GET", "POST"])
@access.power(Power.CREATE_REQUESTS)
def new_ticket():
    ticket_type = request.values.get("type")
    if ticket_type not in TicketType.__members__.values():
        return render_template("tickets/choose_type.html", type_hints=TYPE_HINTS, **LABELS)
    ticket_type = TicketType(ticket_type)
    form = TicketForm()
    subject_label = None
    if request.method == "GET" and request.args.get("order_id"):
        # The "claim / return" link on a delivered order pre-fills it (as the number people
        # see on the order); it is checked again on submit.
        form.order_id.data = request.args.get("order_id")
        subject_label = services.subject_label(current_organisation(), "order", form.order_id.data)
    required, optional = TYPE_FIELDS[ticket_type]
    if form.validate_on_submit():
        try:
            ticket = services.create_ticket(
                current_organisation(),
                current_user,
                ticket_type,
                title=form.title.data,
                body=form.body.data,
                fields={name: getattr(form, name).data for name in required + optional},
                files=form.attachments.data,
            )
        except services.TicketError as error:
            db.session.rollback()
            _add_error(form, error)
        else:
            db.session.commit()
            flash(_("Request №%(number)s has been sent.", number=ticket.id), "success")
            return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))
    return render_template(
        "tickets/new.html",
        form=form,
        ticket_type=ticket_type,
        type_fields=required + optional,
        required_fields=required,
        subject_label=subject_label,
        **LABELS,
    ), (422 if form.errors else 200)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@access.power(Power.CREATE_REQUESTS)
def show_ticket(ticket_id):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(
                ticket, current_user, body=form.body.data, files=form.attachments.data
            )
        except services.TicketError as error:
            db.session.rollback()
            _add_error(form, error)
        else:
            db.session.commit()
            flash(_("Your message has been sent."), "success")
            return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))
    return render_template(
        "tickets/show.html",
        ticket=ticket,
        form=form,
        confirm=ConfirmForm(),
        staff_view=False,
        **LABELS,
    ), (422 if form.errors else 200)


@bp.route("/tickets/<int:ticket_id>/close", methods=["POST"])
@access.power(Power.CREATE_REQUESTS)
def close_ticket(ticket_id):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.close_by_customer(ticket, current_user)
        except services.TicketError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The request has been closed."), "success")
    return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@access.power(Power.CREATE_REQUESTS)
def download_attachment(ticket_id, attachment_id):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    return _send_attachment(ticket, attachment_id)


def _send_attachment(ticket, attachment_id):
    attachment = db.session.get(TicketAttachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    return storage.send_stored(
        attachment.stored_name, attachment.original_name, attachment.content_type
    )


# --- staff side ----------------------------------------------------------------------------


@bp.route("/backoffice/tickets")
@access.staff()
def staff_queue():
    status = request.args.get("status", "open")
    mine = request.args.get("mine") == "1"
    page = db.paginate(
        services.staff_queue(status, current_user.id if mine else None),
        per_page=50,
        error_out=False,
    )
    return render_template(
        "tickets/staff_queue.html", page=page, status=status, mine=mine, **LABELS
    )


def _assigned_to(ticket, user) -> bool:
    """The curator (or an admin) may hand a request to a colleague, who may then answer it."""
    return ticket.assigned_to_id == user.id


@bp.route("/backoffice/tickets/<int:ticket_id>", methods=["GET", "POST"])
@access.curator(Ticket, "ticket_id", delegate=_assigned_to)
def staff_ticket(ticket_id):
    ticket = db.get_or_404(Ticket, ticket_id)
    form = StaffCommentForm()
    form.status.choices = choices(
        [("", _("keep the status"))]
        + [(s.value, STATUS_LABELS[s]) for s in TicketStatus if s != TicketStatus.NEW]
    )
    assign_form = AssignForm()
    assign_form.assignee.choices = choices([(u.id, u.full_name) for u in services.staff_users()])
    if request.method == "GET":
        assign_form.assignee.data = str(ticket.assigned_to_id or current_user.id)
    if form.submit.data and form.validate_on_submit():
        try:
            services.add_comment(
                ticket,
                current_user,
                body=form.body.data,
                new_status=form.status.data or None,
                files=form.attachments.data,
            )
        except services.TicketError as error:
            db.session.rollback()
            _add_error(form, error)
        else:
            db.session.commit()
            flash(_("The answer has been sent to the customer."), "success")
            return redirect(url_for("tickets.staff_ticket", ticket_id=ticket.id))
    return render_template(
        "tickets/show.html",
        ticket=ticket,
        form=form,
        assign_form=assign_form,
        staff_view=True,
        **LABELS,
    ), (422 if form.errors else 200)


@bp.route("/backoffice/tickets/<int:ticket_id>/assign", methods=["POST"])
@access.curator(Ticket, "ticket_id")
def assign_ticket(ticket_id):
    ticket = db.get_or_404(Ticket, ticket_id)
    form = AssignForm()
    form.assignee.choices = choices([(u.id, u.full_name) for u in services.staff_users()])
    if form.validate_on_submit():
        try:
            services.assign(ticket, current_user, form.assignee.data)
        except services.TicketError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The responsible manager has been changed."), "success")
    return redirect(url_for("tickets.staff_ticket", ticket_id=ticket.id))


@bp.route("/backoffice/tickets/<int:ticket_id>/files/<int:attachment_id>")
@access.staff()
def staff_download_attachment(ticket_id, attachment_id):
    ticket = db.get_or_404(Ticket, ticket_id)
    response = _send_attachment(ticket, attachment_id)
    # A customer's attachment may carry people's data: staff downloads are recorded.
    audit.record(
        "tickets.attachment_downloaded_by_staff",
        target=ticket,
        organisation=ticket.organisation_id,
        attachment_id=attachment_id,
    )
    db.session.commit()
    return response
