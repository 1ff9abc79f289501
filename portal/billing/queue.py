"""Billing's queue tasks: statements and payment reminders, on the portal's one job queue
(portal/jobs/queue.py: Huey on SQLite in instance/, or on Redis when configured).
`flask worker` runs the consumer. The bank statement import's job is here too.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from huey import Huey, crontab

from portal.extensions import db
from portal.jobs import background, kinds


@dataclass
class StatementQueue:
    huey: Huey
    generate: object  # the Huey task: generate(job_id) enqueues
    remind: object = None  # the Huey task: remind(day or None) sends the payment reminders

    def enqueue(self, job_id: int):
        return self.generate(job_id)


def build_queue(app, huey: Huey) -> StatementQueue:
    @huey.task(retries=0, context=False)
    def generate_statement(job_id):
        from portal.billing.statements import run_job

        # A request context (not only an app context): the shared template context processor
        # and url_for expect one; the worker has no real request.
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            run_job(job_id)

    @huey.task(retries=0, context=False)
    def send_payment_reminders(day_iso=None):
        from datetime import date

        from portal import transactions
        from portal.billing.reminders import send_payment_reminders as send

        base_url = app.config["PORTAL_BASE_URL"]
        with app.test_request_context(base_url=base_url), transactions.unit_of_work():
            send(date.fromisoformat(day_iso) if day_iso else None)

    # The worker sends the day's reminders every morning (09:00 Moscow); a cron run of
    # `flask billing remind` as well sends nothing twice (what was sent is stored).
    @huey.periodic_task(crontab(minute="0", hour="6"), retries=0, context=False)
    def daily_payment_reminders():
        send_payment_reminders.call_local()

    return StatementQueue(huey, generate_statement, send_payment_reminders)


def init_queue(app) -> None:
    """Billing's tasks on the portal's one job queue (portal.jobs.queue)."""
    from portal.jobs.queue import job_queue

    app.extensions["statements_queue"] = build_queue(app, job_queue(app))


def statement_queue(app) -> StatementQueue:
    return app.extensions["statements_queue"]


# --- the bank statement import as a queue job (portal/jobs/background.py) ----------------------

BANK_IMPORT_TASK = "bank_import"


def statement_lines(lines) -> list[dict]:
    """The import's report, as the job's row keeps it (JSON) and the pages show it."""
    return [
        {
            "number": line.number,
            "payer_inn": line.payer_inn,
            "amount": None if line.amount is None else str(line.amount),
            "organisation_name": line.organisation.legal_name if line.organisation else "",
            "contract_label": str(line.contract_label or ""),
            "error": None if line.error is None else str(line.error),
        }
        for line in lines
    ]


@background.handler(BANK_IMPORT_TASK, kinds.IMPORTS, title=_l("Bank statement import"))
def run_bank_import(job, data):
    """Every payment line or none, as the person who asked (their customers only)."""
    from portal.accounts.models import User
    from portal.billing import bank_import
    from portal.billing.errors import StatementRejected

    user = db.session.get(User, job.requested_by_id)
    background.act_as(user)
    try:
        lines = bank_import.import_bank_statement(data, user)
    except StatementRejected as rejection:
        raise background.Refused(
            rejection.message, {"lines": statement_lines(rejection.report)}
        ) from None
    return {"count": len(lines), "lines": statement_lines(lines)}
