from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal import navigation
from portal.extensions import db
from portal.onboarding.models import Application, ApplicationStatus
from portal.organisations.models import Organisation
from portal.security import access, current_membership

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@access.public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    if current_user.is_staff:
        return redirect(url_for("dashboard.staff"))
    membership = current_membership()
    if membership is None:
        return render_template("dashboard/no_organisation.html")
    panels = []
    for panel in navigation.panels_for(current_user, membership):
        context = panel.context(membership)
        if context is not None:
            panels.append((panel, context))
    return render_template("dashboard/customer.html", membership=membership, panels=panels)


@bp.route("/backoffice/")
@access.staff()
def staff():
    waiting = db.session.scalar(
        select(func.count(Application.id)).where(Application.status == ApplicationStatus.NEW)
    )
    mine = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.manager_id == current_user.id)
    )
    panels = []
    for panel in navigation.panels_for(current_user, None):
        context = panel.context(None)
        if context is not None:
            panels.append((panel, context))
    return render_template(
        "dashboard/staff.html", waiting_applications=waiting, my_organisations=mine, panels=panels
    )
