"""Reconciliation statements: requested on a page, produced by the background worker."""

from datetime import date

from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors, partials, transactions
from portal.accounts.forms import ConfirmForm
from portal.billing import bp
from portal.billing import statements as services
from portal.billing.forms import StatementForm
from portal.billing.models import JobStatus, StatementJob
from portal.billing.queue import statement_queue
from portal.errors import UserError
from portal.extensions import db
from portal.files import store as file_store
from portal.form_fields import choices
from portal.organisations.models import Power
from portal.security import access, current_organisation, get_scoped_or_404


def _queue_unavailable_message():
    return _(
        "Statements cannot be prepared right now: the service that makes them is unavailable. "
        "Nothing was saved; please try again in a few minutes."
    )


def _queue_available() -> bool:
    """Ask the queue's storage (Redis in production) whether it answers, before taking work."""
    try:
        statement_queue(current_app).huey.pending_count()
    except Exception as error:  # noqa: BLE001 - any storage failure means "unavailable"
        current_app.logger.error(
            "statement queue unavailable (%s: %s); request refused", type(error).__name__, error
        )
        return False
    return True


def _enqueue(job_id):
    """Hand the job to the worker; if the queue is unreachable, show the job as failed."""
    try:
        statement_queue(current_app).enqueue(job_id)
    except Exception as error:  # noqa: BLE001 - any broker failure must reach the user as "failed"
        current_app.logger.error(
            "could not enqueue statement job %s (%s: %s)", job_id, type(error).__name__, error
        )
        with transactions.unit_of_work():
            job = db.session.get(StatementJob, job_id)
            job.status = JobStatus.FAILED
            job.error = f"queue unavailable: {type(error).__name__}"


@bp.route("/statements/", methods=["GET", "POST"])
@access.power(Power.VIEW_FINANCE)
def request_statement():
    organisation = current_organisation()
    form = StatementForm()
    form.contract_id.choices = choices(
        [("", _("All settlements of the organisation"))]
        + services.organisation_contracts(organisation.id)
    )
    if not form.is_submitted():
        today = date.today()
        form.period_start.data = date(today.year, 1, 1)
        form.period_end.data = today
    valid = form.validate_on_submit()
    refused = valid and not _queue_available()  # the queue is down: no job is created
    if valid and not refused:
        contract_id = int(form.contract_id.data) if form.contract_id.data else None
        try:
            # The worker reads the job from the database: it is committed before it is queued.
            with transactions.unit_of_work():
                job, reused = services.request_statement(
                    organisation,
                    current_user,
                    form.period_start.data,
                    form.period_end.data,
                    contract_id,
                )
        except UserError as error:
            errors.show(error, form, default_field="period_end")
        else:
            job_id = job.id
            if not reused:
                _enqueue(job_id)
            return redirect(url_for("billing.show_job", job_id=job_id))
    if refused:
        flash(_queue_unavailable_message(), "danger")
    return render_template(
        "billing/statement_request.html",
        form=form,
        jobs=services.jobs_for(organisation.id),
    ), (503 if refused else 422 if form.errors else 200)


@bp.route("/statements/<int:job_id>")
@access.power(Power.VIEW_FINANCE)
def show_job(job_id):
    job = get_scoped_or_404(StatementJob, job_id)
    return render_template("billing/statement_job.html", job=job, confirm=ConfirmForm())


@bp.route("/statements/<int:job_id>/status")
@access.power(Power.VIEW_FINANCE)
def job_status(job_id):
    job = get_scoped_or_404(StatementJob, job_id)
    if services.is_stalled(job):  # its worker died: requeue it (once) or report it failed
        with transactions.unit_of_work():  # committed before the worker is told
            requeue = services.recover_stalled(job)
        if requeue:
            _enqueue(job.id)
    if partials.is_htmx():  # the job page's status block, polled by htmx
        return render_template(
            "billing/_statement_job.html",
            job=job,
            confirm=ConfirmForm(),
        )
    done = job.status == JobStatus.DONE
    return jsonify(
        status=job.status,
        label=JobStatus(job.status).label,
        progress=job.progress,
        pdf_url=url_for("billing.download", job_id=job.id, fmt="pdf") if done else None,
        xlsx_url=url_for("billing.download", job_id=job.id, fmt="xlsx") if done else None,
    )


@bp.route("/statements/<int:job_id>/retry", methods=["POST"])
@access.power(Power.VIEW_FINANCE)
def retry_job(job_id):
    job = get_scoped_or_404(StatementJob, job_id)
    confirm = ConfirmForm()
    if confirm.validate_on_submit():
        if not _queue_available():
            flash(_queue_unavailable_message(), "danger")
            transactions.refuse()
            page = render_template("billing/statement_job.html", job=job, confirm=confirm)
            return page, 503
        try:
            with transactions.unit_of_work():  # committed before the worker is told
                services.retry(job)
        except UserError as error:
            errors.show(error, category="danger")
            # Refused (the job is not one to retry): its page again, 422, nothing changed.
            return errors.form_page("billing/statement_job.html", job=job, confirm=confirm)
        _enqueue(job_id)
    return redirect(url_for("billing.show_job", job_id=job_id))


@bp.route("/statements/<int:job_id>/statement.<any(pdf, xlsx):fmt>")
@access.power(Power.VIEW_FINANCE)
def download(job_id, fmt):
    job = get_scoped_or_404(StatementJob, job_id)
    key = services.file_key(job, fmt)
    if key is None:
        abort(404)
    name = f"akt-sverki-{job.period_start:%Y%m%d}-{job.period_end:%Y%m%d}.{fmt}"
    mimetype = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return file_store.send(
        file_store.reports(), key, download_name=name, content_type=mimetype
    )  # nosniff, private, no-store; 404 when missing, 503 when the store is unreachable
