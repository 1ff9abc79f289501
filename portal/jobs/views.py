"""Staff: the background queue, its depth per kind and the failed jobs (retry button); the
page of one import or document job."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit, errors, partials
from portal.accounts.forms import ConfirmForm
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.jobs import background, bp, kinds
from portal.jobs.models import BackgroundJob, FailedJob
from portal.jobs.tasks import depth_by_kind, retry_failed_job
from portal.security import access

FAILED_SHOWN = 100


@bp.route("/backoffice/queue/")
@access.staff()
def dashboard():
    try:
        depth = depth_by_kind(current_app)
    except Exception as error:  # noqa: BLE001 - the queue's storage down: say so, show the rest
        current_app.logger.error("queue depth unavailable (%s: %s)", type(error).__name__, error)
        depth = None
    failed = db.session.scalars(
        select(FailedJob)
        .where(FailedJob.retried_at.is_(None))
        .order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
        .limit(FAILED_SHOWN)
    ).all()
    return render_template(
        "jobs/dashboard.html",
        depth=depth,
        limits=current_app.extensions.get("job_limits", kinds.DEFAULT_LIMITS),
        labels=kinds.LABELS,
        failed=failed,
        form=ConfirmForm(),
    )


@bp.route("/backoffice/queue/failed/<int:job_id>/retry", methods=["POST"])
@access.staff()
def retry(job_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    failed = db.get_or_404(FailedJob, job_id)
    if failed.retried_at is not None:
        flash(_("This job has already been sent to the queue again."), "info")
        return redirect(url_for("jobs.dashboard"))
    try:
        retry_failed_job(current_app, failed)
    except Exception as error:  # noqa: BLE001 - any broker failure: nothing is changed
        current_app.logger.error(
            "could not retry job %s (%s: %s)", job_id, type(error).__name__, error
        )
        errors.show(
            UserError(
                _(
                    "The queue is unavailable right now; the job was not retried. "
                    "Try again in a few minutes."
                )
            )
        )
        return redirect(url_for("jobs.dashboard"))
    failed.retried_at = utcnow()
    failed.retried_by_id = current_user.id
    audit.record(
        "queue.job_retried",
        target=failed,
        task=failed.task_name,
        kind=failed.kind,
        task_id=failed.task_id,
    )
    flash(_("The job is in the queue again."), "success")
    return redirect(url_for("jobs.dashboard"))


# --- an import's or a document's own page: pending, done with its report, failed -------------


def _visible_job_or_404(job_id):
    job = db.session.get(BackgroundJob, job_id)
    if job is None or not background.visible_to(job, current_user):
        abort(404)  # another person's job: as if it did not exist
    return job


@bp.route("/backoffice/jobs/<int:job_id>")
@access.staff()
def show_job(job_id):
    job = _visible_job_or_404(job_id)
    return render_template("jobs/job.html", job=job)


@bp.route("/backoffice/jobs/<int:job_id>/status")
@access.staff()
def job_status(job_id):
    """The status block alone (htmx polls it while the job waits or runs)."""
    job = _visible_job_or_404(job_id)
    if background.recover_if_stalled(current_app, job):  # its worker died: once more
        db.session.expire_all()
        job = _visible_job_or_404(job_id)
    if partials.is_htmx():
        return render_template("jobs/_job.html", job=job)
    return jsonify(status=job.status, label=str(job.state.label), error=job.error or None)
