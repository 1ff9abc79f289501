from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.forms import ConfirmForm
from portal.extensions import db
from portal.notifications import services
from portal.security import access, safe_next_url

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("/")
@access.authenticated
def list_notifications():
    page = db.paginate(services.for_user(current_user), per_page=30, error_out=False)
    return render_template(
        "notifications/list.html", notices=page.items, page=page, confirm=ConfirmForm()
    )


@bp.route("/read", methods=["POST"])
@access.authenticated
def mark_read():
    if ConfirmForm().validate_on_submit():
        services.mark_read(current_user, request.form.get("notification_id", type=int))
    return redirect(
        safe_next_url(request.form.get("next"), url_for("notifications.list_notifications"))
    )
