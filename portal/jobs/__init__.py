"""Background work that scales out: every kind of job (statements, documents, mail, webhooks,
imports) runs on the one queue any worker takes from, each kind with its own concurrency limit
(a Redis semaphore shared by all workers), so month-end statements cannot starve mail.

- kinds.py: which task is which kind, and the configured limits;
- limits.py: the per-kind semaphores, installed as the queue's pre/post-execute hooks;
- models.py: failed jobs (a job that raised with no retry left), retried from the dashboard;
- tasks.py: mail as a queue job; installs the hooks and the failure signal;
- views.py: /backoffice/queue/, queue depth per kind and the failed jobs.
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
    from portal.jobs import tasks

    tasks.install(state.app)
