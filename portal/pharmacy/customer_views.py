"""The buyer's side: the series of an order as XLSX, a recall notice and its acknowledgement."""

from io import BytesIO

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.forms import ConfirmForm
from portal.orders.models import Order
from portal.organisations.models import PHARMACY_KINDS, Power
from portal.pharmacy import bp, documents, recalls
from portal.security import access, current_organisation, get_scoped_or_404


@bp.route("/orders/<int:order_id>/series.xlsx")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def order_series_xlsx(order_id):
    order = get_scoped_or_404(Order, order_id)
    return send_file(
        BytesIO(documents.series_xlsx(order)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"series-{order.number}.xlsx",
    )


def _notice_or_404(recall_id):
    """Only an organisation that received the series sees its recall."""
    notice = recalls.notice_of(current_organisation().id, recall_id)
    if notice is None:
        abort(404)
    return notice


@bp.route("/pharmacy/recalls/<int:recall_id>")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def show_recall(recall_id):
    notice = _notice_or_404(recall_id)
    return render_template(
        "pharmacy/recall.html", notice=notice, recall=notice.recall, form=ConfirmForm()
    )


@bp.route("/pharmacy/recalls/<int:recall_id>/letter")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def recall_letter(recall_id):
    return recalls.send_letter(_notice_or_404(recall_id).recall)


@bp.route("/pharmacy/recalls/<int:recall_id>/acknowledge", methods=["POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def acknowledge_recall(recall_id):
    notice = _notice_or_404(recall_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    recalls.acknowledge(notice, current_user)
    flash(_("The recall is acknowledged."), "success")
    return redirect(url_for("dashboard.index"))
