from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.documents import storage
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Power
from portal.security import access, current_organisation, get_scoped_or_404
from portal.tickets import bp, services
from portal.tickets.forms import (
    ATTACHMENT_HINT,
    DETAIL_LABELS,
    RETURN_REASONS,
    TYPE_FIELDS,
    TYPE_HINTS,
    CommentForm,
    TicketForm,
)
from portal.tickets.models import Ticket, TicketAttachment, TicketType

LABELS = {
    "ticket_types": list(TicketType),
    "return_reasons": RETURN_REASONS,
    "attachment_hint": ATTACHMENT_HINT,
    "form_labels": DETAIL_LABELS,
}


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
        # A POST without a known type is refused: the choice of types again.
        page = render_template("tickets/choose_type.html", type_hints=TYPE_HINTS, **LABELS)
        return page, 422 if request.method == "POST" else 200
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
        except UserError as error:
            errors.show(error, form, default_field="body")
        else:
            flash(_("Request №%(number)s has been sent.", number=ticket.id), "success")
            return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))
    return errors.form_page(
        "tickets/new.html",
        form=form,
        ticket_type=ticket_type,
        type_fields=required + optional,
        required_fields=required,
        subject_label=subject_label,
        **LABELS,
    )


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
        except UserError as error:
            errors.show(error, form, default_field="body")
        else:
            flash(_("Your message has been sent."), "success")
            return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))
    return errors.form_page(
        "tickets/show.html",
        ticket=ticket,
        form=form,
        confirm=ConfirmForm(),
        staff_view=False,
        **LABELS,
    )


@bp.route("/tickets/<int:ticket_id>/close", methods=["POST"])
@access.power(Power.CREATE_REQUESTS)
def close_ticket(ticket_id):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.close_by_customer(ticket, current_user)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            flash(_("The request has been closed."), "success")
    return redirect(url_for("tickets.show_ticket", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/files/<int:attachment_id>")
@access.power(Power.CREATE_REQUESTS)
def download_attachment(ticket_id, attachment_id):
    ticket = get_scoped_or_404(Ticket, ticket_id)
    return send_attachment(ticket, attachment_id)


def send_attachment(ticket, attachment_id):
    attachment = db.session.get(TicketAttachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    return storage.send_stored(
        attachment.stored_name, attachment.original_name, attachment.content_type
    )


from portal.tickets import staff_views  # noqa: E402, F401 - the staff side, same blueprint
