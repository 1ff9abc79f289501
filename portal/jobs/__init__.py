"""Background work that scales out: every kind of job (statements, documents, mail, webhooks,
imports) runs on the one queue any worker takes from, each kind with its own concurrency limit
(a Redis semaphore shared by all workers), so month-end statements cannot starve mail.

- kinds.py: which task is which kind, and the configured limits;
- limits.py: the per-kind semaphores, installed as the queue's pre/post-execute hooks;
- models.py: failed jobs (a job that raised with no retry left), retried from the dashboard;
- tasks.py: mail as a queue job; installs the hooks and the failure signal;
- background.py: imports and documents as jobs, each with its status row and page;
- queue.py: the one Huey queue (SQLite in instance/, or Redis), every domain's tasks on it;
- views.py: /backoffice/queue/, queue depth per kind and the failed jobs; /backoffice/jobs/<id>.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, register_menu

bp = Blueprint("jobs", __name__)

register_menu(
    MenuItem(_l("Background jobs"), "jobs.dashboard", staff=True, order=95, group="other")
)


@bp.record_once
def _install(state):
    from portal.jobs import background, tasks

    tasks.install(state.app)
    background.install(state.app)


@bp.app_template_global("job_title")
def job_title(job):
    from portal.jobs import background

    return background.title_of(job)


@bp.app_template_global("job_error")
def job_error(job):
    from portal.jobs import background

    return background.error_of(job)
