"""The back office's side of ordering (/backoffice/orders/...): every order, its workflow,
shipped quantities, the УПД of an old shipment, the staff note."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from portal import billing, errors
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import User
from portal.billing import payment_qr, payment_status
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.jobs import background, kinds
from portal.orders import bp, workflow
from portal.orders.forms import StaffNoteForm, StatusForm
from portal.orders.models import NEXT_STATUSES, Order, OrderStatus
from portal.organisations.models import Organisation
from portal.pharmacy import series
from portal.request_guard import text_arg
from portal.security import access, can_manage_organisation, require_manage_organisation
from portal.validators import NumberError, parse_whole


@bp.route("/backoffice/orders")
@access.staff()
def staff_orders():
    query = select(Order).join(Organisation, Organisation.id == Order.organisation_id)
    status = request.args.get("status") or ""
    search = text_arg("q")
    if status in OrderStatus.__members__.values():
        query = query.where(Order.status == status)
    if search:
        query = query.where(
            or_(
                Order.number.contains(search),
                Organisation.legal_name.ilike(f"%{search}%"),
                Organisation.inn.startswith(search),
            )
        )
    if request.args.get("mine"):
        query = query.where(Organisation.manager_id == current_user.id)
    page = db.paginate(
        query.order_by(Order.created_at.desc(), Order.id.desc()), per_page=30, error_out=False
    )
    return render_template(
        "orders/staff_list.html",
        page=page,
        status=status,
        statuses=OrderStatus,
        search=search,
        mine=request.args.get("mine"),
    )


def _staff_page(order, status_form=None, note_form=None):
    status_form = status_form or StatusForm()
    status_form.status.choices = choices(
        (s.value, s.label) for s in NEXT_STATUSES[OrderStatus(order.status)]
    )
    note_form = note_form or StaffNoteForm(staff_note=order.staff_note)
    return errors.form_page(
        "orders/staff_order.html",
        form=ConfirmForm(),
        order=order,
        line_series=series.series_by_line(line.id for line in order.lines),
        shipment=billing.shipment_of(order.id),
        upd=billing.upd_of_order(order.id),
        payment=payment_status.document_status(order),
        payment_qr=payment_qr.order_payment_qr(order),
        status_form=status_form,
        note_form=note_form,
        can_manage=can_manage_organisation(current_user, order.organisation),
    )


@bp.route("/backoffice/orders/<int:order_id>")
@access.staff()
def staff_order(order_id):
    return _staff_page(db.get_or_404(Order, order_id))


@bp.route("/backoffice/orders/<int:order_id>/status", methods=["POST"])
@access.curator(Order, "order_id")
def staff_change_status(order_id):
    order = db.get_or_404(Order, order_id)
    require_manage_organisation(order.organisation)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            workflow.change_status(order, form.status.data, current_user, form.note.data)
        except UserError as error:
            errors.show(error, form, default_field="status")
            return _staff_page(order, status_form=form)
        flash(_("The order status is changed."), "success")
    return redirect(url_for("orders.staff_order", order_id=order_id))


@bp.route("/backoffice/orders/<int:order_id>/shipped", methods=["POST"])
@access.curator(Order, "order_id")
def staff_shipped_quantities(order_id):
    order = db.get_or_404(Order, order_id)
    require_manage_organisation(order.organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    quantities = {}
    for line in order.lines:
        raw = (request.form.get(f"shipped-{line.id}") or "").strip()
        if raw == "":
            continue
        try:
            quantities[line.id] = parse_whole(raw)
        except NumberError:
            quantities[line.id] = -1  # refused by set_shipped_quantities with its message
    try:
        workflow.set_shipped_quantities(order, quantities, current_user)
    except UserError as error:
        errors.show(error)
        return _staff_page(order)  # refused: the order's page again, 422
    flash(_("Shipped quantities are saved."), "success")
    return redirect(url_for("orders.staff_order", order_id=order_id))


@bp.route("/backoffice/orders/<int:order_id>/upd", methods=["POST"])
@access.curator(Order, "order_id")
def staff_issue_upd(order_id):
    """Issue the УПД of a shipment recorded before documents were numbered on their own: a
    queue job of the documents kind (numbered once, however often it is retried)."""
    order = db.get_or_404(Order, order_id)
    require_manage_organisation(order.organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        job = background.start(
            ISSUE_UPD_TASK,
            current_user,
            organisation_id=order.organisation_id,
            params={
                "order_id": order.id,
                "back": url_for("orders.staff_order", order_id=order.id),
            },
        )
    except UserError as error:
        errors.show(error)
        return _staff_page(order)  # refused: 422, nothing saved
    refusal = background.refused_at_once(job)  # in the process, or a quick worker
    if refusal is not None:
        errors.show(UserError(refusal.message))
        return _staff_page(db.get_or_404(Order, order_id))
    if job.status == "done":
        flash(_("УПД № %(number)s is issued.", number=job.result["number"]), "success")
        return redirect(url_for("orders.staff_order", order_id=order_id))
    return redirect(url_for("jobs.show_job", job_id=job.id))


ISSUE_UPD_TASK = "issue_upd"


@background.handler(ISSUE_UPD_TASK, kinds.DOCUMENTS, title=_l("УПД of a shipment"))
def _run_issue_upd(job, _data):
    """The worker's part: the УПД numbered and kept with its snapshot, or the refusal."""
    user = db.session.get(User, job.requested_by_id)
    background.act_as(user)
    order = db.session.get(Order, job.params["order_id"])
    if order is None or order.organisation_id != job.organisation_id:
        raise UserError(_l("The order no longer exists."))
    if not can_manage_organisation(user, order.organisation):
        raise UserError(_l("This customer is curated by another manager."))
    document = billing.issue_upd(order, user)
    return {
        "number": document.printed_number,
        "document_id": document.id,
        "order_id": order.id,
    }


@bp.route("/backoffice/orders/<int:order_id>/note", methods=["POST"])
@access.curator(Order, "order_id")
def staff_note(order_id):
    order = db.get_or_404(Order, order_id)
    require_manage_organisation(order.organisation)
    form = StaffNoteForm()
    if form.validate_on_submit():
        workflow.set_staff_note(order, form.staff_note.data, current_user)
        flash(_("The note is saved."), "success")
    return redirect(url_for("orders.staff_order", order_id=order_id))
