"""Requests, the staff side (/backoffice/tickets/): the queue, answers, hand-over to a colleague."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit, errors, transactions
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.security import access
from portal.tickets import bp, services
from portal.tickets.forms import AssignForm, StaffCommentForm
from portal.tickets.models import Ticket, TicketStatus
from portal.tickets.views import LABELS, send_attachment

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
    form = _comment_form()
    if form.validate_on_submit():
        try:
            services.add_comment(
                ticket,
                current_user,
                body=form.body.data,
                new_status=form.status.data or None,
                files=form.attachments.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="body")
        else:
            flash(_("The answer has been sent to the customer."), "success")
            return redirect(url_for("tickets.staff_ticket", ticket_id=ticket.id))
    return _staff_page(ticket, form, _assign_form(ticket))


def _comment_form(**kwargs):
    form = StaffCommentForm(**kwargs)
    form.status.choices = choices(
        [("", _("keep the status"))]
        + [(s.value, s.label) for s in TicketStatus if s != TicketStatus.NEW]
    )
    return form


def _assign_form(ticket, submitted=False):
    """The hand-over form: as posted to assign_ticket, else showing the responsible one."""
    form = AssignForm() if submitted else AssignForm(formdata=None)
    form.assignee.choices = choices([(u.id, u.full_name) for u in services.staff_users()])
    if not submitted:
        form.assignee.data = str(ticket.assigned_to_id or current_user.id)
    return form


def _staff_page(ticket, form, assign_form):
    """The request's staff page; a refused answer or hand-over answers 422."""
    refused = request.method == "POST" and (
        bool(form.errors or assign_form.errors) or transactions.is_refused()
    )
    page = render_template(
        "tickets/show.html",
        ticket=ticket,
        form=form,
        assign_form=assign_form,
        staff_view=True,
        **LABELS,
    )
    return page, 422 if refused else 200


@bp.route("/backoffice/tickets/<int:ticket_id>/assign", methods=["POST"])
@access.curator(Ticket, "ticket_id")
def assign_ticket(ticket_id):
    ticket = db.get_or_404(Ticket, ticket_id)
    form = _assign_form(ticket, submitted=True)
    if form.validate_on_submit():
        try:
            services.assign(ticket, current_user, form.assignee.data)
        except UserError as error:
            errors.show(error, form, default_field="assignee")
        else:
            flash(_("The responsible manager has been changed."), "success")
            return redirect(url_for("tickets.staff_ticket", ticket_id=ticket.id))
    return _staff_page(ticket, _comment_form(formdata=None), form)


@bp.route("/backoffice/tickets/<int:ticket_id>/files/<int:attachment_id>")
@access.staff()
def staff_download_attachment(ticket_id, attachment_id):
    ticket = db.get_or_404(Ticket, ticket_id)
    response = send_attachment(ticket, attachment_id)
    # A customer's attachment may carry people's data: staff downloads are recorded.
    audit.record(
        "tickets.attachment_downloaded_by_staff",
        target=ticket,
        organisation=ticket.organisation_id,
        attachment_id=attachment_id,
    )
    return response
