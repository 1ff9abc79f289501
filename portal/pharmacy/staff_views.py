"""Staff pages (/backoffice/pharmacy/...): the series of an order's lines, series recalls."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.catalog.certificates import certificates_of
from portal.errors import UserError
from portal.extensions import db
from portal.orders.models import Order
from portal.organisations.models import Organisation
from portal.pharmacy import bp, recalls, series
from portal.pharmacy.forms import RecallForm
from portal.pharmacy.models import SeriesRecall
from portal.security import access, can_manage_organisation, require_manage_organisation

BLANK_ROWS = 2


def _series_page(order, typed=None):
    by_line = series.series_by_line(line.id for line in order.lines)
    return errors.form_page(
        "pharmacy/staff_order_series.html",
        form=ConfirmForm(),
        order=order,
        by_line=by_line,
        typed=typed,
        blank_rows=BLANK_ROWS,
        certificates={line.id: certificates_of(line.item_id) for line in order.lines},
        can_manage=can_manage_organisation(current_user, order.organisation),
    )


def _typed_rows(order) -> dict[int, list[dict]]:
    """The rows as posted: series-<line>-<n>, expiry-, quantity-, declaration-, certificate-."""
    rows = {}
    for line in order.lines:
        entries = []
        for index in range(series.MAX_ROWS_PER_LINE):
            key = f"{line.id}-{index}"
            if f"series-{key}" not in request.form:
                break
            entries.append(
                {
                    "series": request.form.get(f"series-{key}", ""),
                    "expires_on": request.form.get(f"expiry-{key}", ""),
                    "quantity": request.form.get(f"quantity-{key}", ""),
                    "declaration": request.form.get(f"declaration-{key}", ""),
                    "certificate_id": request.form.get(f"certificate-{key}", ""),
                }
            )
        if entries:
            rows[line.id] = entries
    return rows


@bp.route("/backoffice/pharmacy/orders/<int:order_id>/series")
@access.staff()
def staff_order_series(order_id):
    return _series_page(db.get_or_404(Order, order_id))


@bp.route("/backoffice/pharmacy/orders/<int:order_id>/series", methods=["POST"])
@access.curator(Order, "order_id")
def staff_save_order_series(order_id):
    order = db.get_or_404(Order, order_id)
    require_manage_organisation(order.organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    rows = _typed_rows(order)
    try:
        if not rows:
            raise UserError(_("Enter the series of at least one line."))
        series.record_line_series(order, rows, current_user)
    except UserError as error:
        errors.show(error)
        return _series_page(order, typed=rows)
    flash(_("The series are saved."), "success")
    return redirect(url_for("pharmacy.staff_order_series", order_id=order.id))


def _recalls_page(form=None):
    page = db.paginate(recalls.all_recalls(), per_page=30, error_out=False)
    return errors.form_page("pharmacy/staff_recalls.html", form=form or RecallForm(), page=page)


@bp.route("/backoffice/pharmacy/recalls")
@access.staff()
def staff_recalls():
    return _recalls_page()


@bp.route("/backoffice/pharmacy/recalls", methods=["POST"])
@access.staff()
def staff_record_recall():
    form = RecallForm()
    if form.validate_on_submit():
        try:
            recall = recalls.record_recall(
                sku=form.sku.data,
                series=form.series.data,
                kind=form.kind.data,
                letter_number=form.letter_number.data,
                reason=form.reason.data,
                letter_file=form.letter.data,
                staff_user=current_user,
            )
        except UserError as error:
            errors.show(error, form, default_field="series")
        else:
            flash(
                _(
                    "Series %(series)s is recorded as %(state)s; %(count)s organisations are "
                    "notified.",
                    series=recall.series,
                    state=str(recall.kind_label).lower(),
                    count=len(recall.notices),
                ),
                "success",
            )
            return redirect(url_for("pharmacy.staff_recalls"))
    return _recalls_page(form)


@bp.route("/backoffice/pharmacy/recalls/<int:recall_id>/letter")
@access.staff()
def staff_recall_letter(recall_id):
    return recalls.send_letter(db.get_or_404(SeriesRecall, recall_id))


@bp.route("/backoffice/pharmacy/recalls/<int:recall_id>")
@access.staff()
def staff_recall(recall_id):
    recall = db.get_or_404(SeriesRecall, recall_id)
    return render_template(
        "pharmacy/staff_recall.html",
        recall=recall,
        organisations=_organisation_names([notice.organisation_id for notice in recall.notices]),
    )


def _organisation_names(ids):
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(ids))
        ).all()
    )
