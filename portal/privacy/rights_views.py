"""The person's rights, on the screen: «Мои персональные данные» (what is held, downloads as
JSON and XLSX, a request for erasure and the requests made).

The staff side (the requests, the exports of people's data) is rights_staff_views.py; the
commands (`flask privacy erase --user-id N`, `flask privacy retention`) are commands.py.
"""

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import choices
from portal.navigation import MenuItem, register_menu
from portal.privacy import erasure, rights, rights_xlsx
from portal.privacy import requests as privacy_requests
from portal.privacy.requests import RequestKind, RequestStatus
from portal.security import access

bp = Blueprint("privacy_rights", __name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

register_menu(MenuItem(_l("Personal data"), "privacy_rights.my_data", in_user_menu=True, order=790))
register_menu(
    MenuItem(
        _l("Personal data requests"),
        "privacy_rights.staff_requests",
        staff=True,
        order=330,
        group="clients",
    )
)


class ErasureRequestForm(FlaskForm):
    note = TextAreaField(
        _l("Comment for the operator (optional)"), validators=[Optional(), Length(max=2000)]
    )
    confirm = BooleanField(
        _l("I understand that my account will be closed and cannot be restored"),
        validators=[DataRequired(message=_l("Tick the box to confirm the request."))],
    )
    submit = SubmitField(_l("Ask for erasure"))


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=choices(
            [
                (RequestStatus.DONE.value, RequestStatus.DONE.label),
                (RequestStatus.REFUSED.value, _l("Refused, with a reason")),
            ]
        ),
        validators=[DataRequired(message=_l("Choose a decision."))],
    )
    reason = TextAreaField(
        _l("Reason or answer to the person"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Close with this decision"))


# --- the person -----------------------------------------------------------------------------


@bp.route("/profile/personal-data")
@access.authenticated
def my_data():
    return _my_data_page(ErasureRequestForm())


def _my_data_page(form, status=200):
    user = current_user._get_current_object()
    return (
        render_template(
            "privacy_rights/my_data.html",
            form=form,
            requests=privacy_requests.requests_of(user),
            open_erasure=privacy_requests.open_requests_of(user, RequestKind.ERASURE),
            blockers=erasure.erasure_blockers(user),
            term=privacy_requests.ANSWER_TERM_WORKING_DAYS,
        ),
        status,
    )


@bp.route("/profile/personal-data/erasure", methods=["POST"])
@access.authenticated
def request_erasure():
    form = ErasureRequestForm()
    if not form.validate_on_submit():
        return _my_data_page(form, 422)
    privacy_request = privacy_requests.open_request(
        current_user._get_current_object(), RequestKind.ERASURE, form.note.data
    )
    flash(
        _(
            "Your request %(reference)s is registered. The operator answers by %(due)s.",
            reference=privacy_request.reference,
            due=privacy_request.due_on.strftime("%d.%m.%Y"),
        ),
        "success",
    )
    return redirect(url_for("privacy_rights.my_data"))


def _own_account_or_404(user_id):
    # Only the signed-in person's own data: anyone else's id (staff included) is not found.
    if user_id != current_user.id:
        abort(404)
    return current_user._get_current_object()


def send_download(content: bytes, mimetype: str, name: str):
    response = send_file(
        io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/profile/personal-data/<int:user_id>/export.json")
@access.authenticated
def export_json(user_id):
    user = _own_account_or_404(user_id)
    content = rights.export_json(user)
    rights.record_export(user, "json")
    return send_download(content, "application/json", f"personal-data-{user.id}.json")


@bp.route("/profile/personal-data/<int:user_id>/export.xlsx")
@access.authenticated
def export_xlsx(user_id):
    user = _own_account_or_404(user_id)
    content = rights_xlsx.export_xlsx(user)
    rights.record_export(user, "xlsx")
    return send_download(content, XLSX_MIMETYPE, f"personal-data-{user.id}.xlsx")


from portal.privacy import rights_staff_views  # noqa: E402, F401 - the staff side, same blueprint
