"""The person's rights, the staff side (/backoffice/privacy/): the requests with their legal
due dates and the decision on each; exports of people's data (users, applications), audited."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from portal import audit, clock, errors
from portal.accounts.models import User
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Membership, Organisation
from portal.privacy import erasure, rights, rights_xlsx
from portal.privacy import requests as privacy_requests
from portal.privacy.requests import PrivacyRequest
from portal.privacy.rights_views import XLSX_MIMETYPE, DecisionForm, bp, send_download
from portal.reports import xlsx
from portal.security import access

# --- staff: the requests ----------------------------------------------------------------------

STATUS_FILTERS = ("open", "closed", "all")


@bp.route("/backoffice/privacy/requests")
@access.staff()
def staff_requests():
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    query = privacy_requests.visible_requests(current_user, status)
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template(
        "privacy_rights/staff_requests.html",
        page=page,
        status=status,
        today=clock.local_today(),
        term=privacy_requests.ANSWER_TERM_WORKING_DAYS,
    )


@bp.route("/backoffice/privacy/requests/<int:request_id>", methods=["GET", "POST"])
@access.curator(PrivacyRequest, "request_id", delegate=privacy_requests.delegate_decision)
def staff_request(request_id):
    privacy_request = db.get_or_404(PrivacyRequest, request_id)
    may_decide = privacy_requests.can_decide(current_user, privacy_request)
    form = DecisionForm()
    status = 200
    if request.method == "POST":
        if not may_decide:
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                privacy_requests.close_request(
                    privacy_request, form.decision.data, form.reason.data, current_user
                )
            except UserError as error:
                errors.show(error, form, default_field="decision")
            else:
                flash(_("The request is closed; the decision is recorded."), "success")
                return redirect(url_for("privacy_rights.staff_requests"))
    person = privacy_request.user
    return (
        render_template(
            "privacy_rights/staff_request.html",
            item=privacy_request,
            person=person,
            form=form,
            may_decide=may_decide,
            blockers=erasure.erasure_blockers(person) if privacy_request.is_open else [],
            erased=rights.is_erased(person),
            today=clock.local_today(),
        ),
        status,
    )


# --- staff: exports of people's data ----------------------------------------------------------


def _record_staff_export(what: str, rows: int, **filters) -> None:
    audit.record(
        "privacy.staff_export",
        what=what,
        rows=rows,
        filters={key: value for key, value in filters.items() if value},
    )


def _local(value: datetime | None):
    if value is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).replace(tzinfo=None)


@bp.route("/backoffice/privacy/exports/users.xlsx")
@access.staff()
def staff_export_users():
    """Customer users with their contacts: all of them for admins, a manager's own customers."""
    query = select(User).where(User.staff_role.is_(None)).order_by(User.full_name, User.id)
    if not current_user.is_admin:
        curated = select(Organisation.id).where(
            or_(Organisation.manager_id == current_user.id, Organisation.manager_id.is_(None))
        )
        query = query.where(
            User.id.in_(select(Membership.user_id).where(Membership.organisation_id.in_(curated)))
        )
    users = db.session.scalars(query).all()
    workbook, sheet = xlsx.new_write_only(_("Users"), (18, 32, 30, 18, 50, 10, 18))
    headings = [
        _("Login"),
        _("Full name"),
        _("E-mail"),
        _("Phone"),
        _("Organisations"),
        _("Account active"),
        _("Last sign-in"),
    ]
    sheet.append([xlsx.cell(sheet, text, bold=True) for text in headings])
    for user in users:
        sheet.append(
            [
                user.login,
                user.full_name,
                user.email,
                user.phone,
                "; ".join(m.organisation.legal_name for m in user.memberships),
                _("yes") if user.is_active_flag else _("no"),
                xlsx.cell(
                    sheet, _local(user.last_login_at), number_format=rights_xlsx.DATETIME_FORMAT
                ),
            ]
        )
    _record_staff_export("users", len(users), scope="all" if current_user.is_admin else "curated")
    return send_download(xlsx.to_bytes(workbook), XLSX_MIMETYPE, "users.xlsx")


@bp.route("/backoffice/privacy/exports/applications.xlsx")
@access.staff()
def staff_export_applications():
    """The application queue as filtered on its page, with the representatives' contacts."""
    from portal.onboarding import services as onboarding
    from portal.onboarding.forms import QueueFilterForm

    filters = QueueFilterForm(request.args)
    query = onboarding.application_queue(
        filters.status.data, filters.region.data, filters.kind.data
    )
    applications = db.session.scalars(query).all()
    workbook, sheet = xlsx.new_write_only(
        _("Applications"), (10, 18, 36, 14, 30, 28, 18, 20, 20, 16)
    )
    headings = [
        _("No."),
        _("Application date"),
        _("Organisation"),
        _("INN"),
        _("Representative"),
        _("E-mail"),
        _("Phone"),
        _("Region"),
        _("Kind of activity"),
        _("Status"),
    ]
    sheet.append([xlsx.cell(sheet, text, bold=True) for text in headings])
    for application in applications:
        sheet.append(
            [
                application.reference,
                xlsx.cell(
                    sheet, _local(application.created_at), number_format=rights_xlsx.DATETIME_FORMAT
                ),
                application.organisation_name,
                application.inn,
                application.representative_name,
                application.email,
                application.phone,
                application.region,
                str(application.kind_label),
                str(application.status_label),
            ]
        )
    _record_staff_export(
        "applications",
        len(applications),
        status=filters.status.data,
        region=filters.region.data,
        kind=filters.kind.data,
    )
    return send_download(xlsx.to_bytes(workbook), XLSX_MIMETYPE, "applications.xlsx")
