"""The person's rights, on the screen and from the command line.

The person: «Мои персональные данные» (what is held, downloads as JSON and XLSX, a request
for erasure and the requests made). Staff: the requests with their legal due dates and the
decision on each; exports of people's data (users, applications), each one audited.
Commands: `flask privacy erase --user-id N`, `flask privacy retention [--dry-run]`.
"""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import BooleanField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal import audit, clock
from portal.accounts.models import User
from portal.extensions import db
from portal.form_fields import choices
from portal.navigation import MenuItem, register_menu
from portal.organisations.models import Membership, Organisation
from portal.privacy import requests as privacy_requests
from portal.privacy import retention, rights
from portal.privacy.requests import PrivacyRequest, RequestKind, RequestStatus
from portal.reports import xlsx
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
            blockers=rights.erasure_blockers(user),
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
    db.session.commit()
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


def _download(content: bytes, mimetype: str, name: str):
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
    db.session.commit()
    return _download(content, "application/json", f"personal-data-{user.id}.json")


@bp.route("/profile/personal-data/<int:user_id>/export.xlsx")
@access.authenticated
def export_xlsx(user_id):
    user = _own_account_or_404(user_id)
    content = rights.export_xlsx(user)
    rights.record_export(user, "xlsx")
    db.session.commit()
    return _download(content, XLSX_MIMETYPE, f"personal-data-{user.id}.xlsx")


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
            except privacy_requests.RequestError as error:
                db.session.rollback()
                field = getattr(form, error.field or "decision")
                field.errors = [*field.errors, str(error.message)]
            else:
                db.session.commit()
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
            blockers=rights.erasure_blockers(person) if privacy_request.is_open else [],
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
                xlsx.cell(sheet, _local(user.last_login_at), number_format=rights.DATETIME_FORMAT),
            ]
        )
    _record_staff_export("users", len(users), scope="all" if current_user.is_admin else "curated")
    db.session.commit()
    return _download(xlsx.to_bytes(workbook), XLSX_MIMETYPE, "users.xlsx")


@bp.route("/backoffice/privacy/exports/applications.xlsx")
@access.staff()
def staff_export_applications():
    """The application queue as filtered on its page, with the representatives' contacts."""
    from portal.onboarding import services as onboarding
    from portal.onboarding.forms import STATUS_LABELS, QueueFilterForm
    from portal.organisations.forms import KIND_LABELS

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
                    sheet, _local(application.created_at), number_format=rights.DATETIME_FORMAT
                ),
                application.organisation_name,
                application.inn,
                application.representative_name,
                application.email,
                application.phone,
                application.region,
                str(KIND_LABELS.get(application.kind, application.kind)),
                str(STATUS_LABELS.get(application.status, application.status)),
            ]
        )
    _record_staff_export(
        "applications",
        len(applications),
        status=filters.status.data,
        region=filters.region.data,
        kind=filters.kind.data,
    )
    db.session.commit()
    return _download(xlsx.to_bytes(workbook), XLSX_MIMETYPE, "applications.xlsx")


# --- commands -------------------------------------------------------------------------------------


@click.command("erase")
@click.option("--user-id", type=int, required=True, help="The account to anonymise.")
def erase_command(user_id):
    """Anonymise a person's data (accounting records stay); safe to run again."""
    user = db.session.get(User, user_id)
    if user is None:
        raise click.ClickException(f"no user with id {user_id}")
    try:
        # No request here to choose a language: messages in the portal's default one.
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            result = rights.erase_user(user)
        for open_one in privacy_requests.open_requests_of(user, RequestKind.ERASURE):
            privacy_requests.close_request(
                open_one, RequestStatus.DONE, "flask privacy erase", None
            )
    except rights.ErasureRefused as refusal:
        db.session.rollback()
        raise click.ClickException(f"refused: {refusal.message}") from refusal
    db.session.commit()
    if result.already_erased:
        click.echo(f"user {user_id} was already erased; nothing changed")
        return
    click.echo(f"user {user_id} erased:")
    for name, count in result.counts.items():
        click.echo(f"  {name}: {count}")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is past its period; change nothing.")
@click.option("--enqueue", is_flag=True, help="Hand the run to the background worker.")
def retention_command(dry_run, enqueue):
    """Delete or anonymise personal data past its retention period, per category."""
    if enqueue:
        if dry_run:
            raise click.UsageError("--enqueue runs the policy; use --dry-run without it")
        retention.enqueue_retention(current_app)
        click.echo("retention run queued for the worker")
        return
    report = retention.run_retention(dry_run=dry_run)
    if dry_run:
        click.echo("dry run: nothing changed")
    for line in report.lines():
        click.echo(line)


@bp.record_once
def _register_commands_and_job(state):
    app = state.app
    group = app.cli.commands.get("privacy")
    if group is None:
        group = AppGroup("privacy", help="Personal data: erasure and retention.")
        app.cli.add_command(group)
    group.add_command(erase_command)
    group.add_command(retention_command)
    retention.register_queue_task(app)
