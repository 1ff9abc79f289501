"""Imports and documents as queue jobs: asked for on a page, done by any worker.

A page calls `submit()` inside its unit of work: the uploaded file goes to the file store
(uploads/jobs/…) and a BackgroundJob row (pending) names it. After the commit `enqueue()` hands
the job's id to the queue (kind "imports" or "documents", each with its own concurrency
limit); the person is sent to the job's status page. The worker's `run()`:

- locks the row; a job already done is not done again (a retried import does not import
  twice, a retried document does not take a second number);
- runs the task's handler with the file's bytes, in the language of the person who asked;
  the handler's writes and the row's `done` with its report are ONE transaction, so a worker
  killed in the middle leaves the job pending and nothing half-written;
- a refusal (a UserError: rejected rows, a document that cannot be issued) rolls the work
  back and leaves the job failed with the message (and the rows to correct); any other error
  leaves it failed too, keeps the file and raises, so the queue's failed-jobs record and its
  retry button apply;
- removes the uploaded file once the job has finished (done or refused).

Domains register their handlers with `@handler("name", kind)`; the handler receives the job
and the file's bytes (or None) and returns the report (JSON), or raises a UserError (a
`Refused` carries a report too).
"""

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from flask import current_app, g
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import transactions
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.files import store as file_store
from portal.jobs import kinds
from portal.jobs.models import BackgroundJob, BackgroundState
from portal.jobs.queue import available, job_queue

log = logging.getLogger(__name__)
FOLDER = "jobs"
REFUSED = "refused"  # in a failed job's report: the error is the refusal's message
QUEUE_UNAVAILABLE = "queue-unavailable"
TASK_EXTENSION = "background_task"


@dataclass(frozen=True)
class Handler:
    name: str
    kind: str
    run: Callable  # run(job, data: bytes | None) -> dict
    title: object = None  # what the job's page is headed with (a lazy string)


HANDLERS: dict[str, Handler] = {}


def handler(name: str, kind: str, title=None):
    """Register the function that does a task's work (see the module's docstring)."""
    if kind not in kinds.LABELS:
        raise ValueError(f"unknown job kind {kind!r}")

    def register(function):
        HANDLERS[name] = Handler(name, kind, function, title)
        return function

    return register


class Refused(UserError):  # noqa: N818 - said as the person reads it
    """The job's work is refused: nothing is kept; the message and a report (rows to
    correct) are shown on the job's page."""

    def __init__(self, message, report: dict | None = None, field=None):
        super().__init__(message, field=field)
        self.report = report or {}


def submit(
    task: str,
    user,
    *,
    organisation_id: int | None = None,
    data: bytes | None = None,
    filename: str = "",
    params: dict | None = None,
) -> BackgroundJob:
    """A pending job (its file stored first, then the row); the caller commits, then
    calls enqueue(job.id). The store unreachable: StoreUnavailable (a UserError)."""
    known = HANDLERS[task]
    job = BackgroundJob(
        task=task,
        kind=known.kind,
        status=BackgroundState.PENDING,
        requested_by_id=user.id,
        organisation_id=organisation_id,
        locale=str(get_locale() or "ru")[:8],
        filename=(filename or "")[:255],
        params=params or {},
        result={},
        error="",
    )
    if data is not None:
        key = file_store.new_key(".upload", FOLDER)
        file_store.files().put(key, data, "application/octet-stream")
        job.file_key = key.removeprefix(FOLDER + "/")
    db.session.add(job)
    db.session.flush()
    return job


def enqueue(app, job_id: int) -> bool:
    """Hand a committed job to the queue (PORTAL_JOBS_QUEUE), or do it here and now (the
    embedded default). The queue unreachable: the job is failed with a message saying so."""
    task = app.extensions[TASK_EXTENSION]
    if not app.config.get("JOBS_QUEUE") or job_queue(app).immediate:
        try:
            task.call_local(job_id)
        except Exception:  # noqa: BLE001 - run() has recorded the failure on the job's row
            log.warning("job %s failed in the process", job_id)
        return True
    try:
        task(job_id)
    except Exception as error:  # noqa: BLE001 - any broker failure reaches the person as failed
        app.logger.error("could not enqueue job %s (%s: %s)", job_id, type(error).__name__, error)
        with transactions.unit_of_work():
            job = db.session.get(BackgroundJob, job_id)
            if job is not None and not job.finished:
                _fail(job, QUEUE_UNAVAILABLE)
        return False
    return True


def _key(job) -> str | None:
    return f"{FOLDER}/{job.file_key}" if job.file_key else None


def _lock(job_id: int) -> BackgroundJob | None:
    db.session.expire_all()
    return db.session.scalar(
        select(BackgroundJob).where(BackgroundJob.id == job_id).with_for_update()
    )


def _fail(job, error: str, report: dict | None = None) -> None:
    job.status = BackgroundState.FAILED
    job.error = error[:2000]
    if report is not None:
        job.result = report
    job.finished_at = utcnow()


def _forget_file(job_id: int) -> None:
    """Remove the finished job's upload (best effort: the orphan check lists what is left)."""
    with transactions.unit_of_work():
        job = _lock(job_id)
        key = _key(job) if job is not None else None
        if key is None:
            return
        try:
            file_store.files().delete(key)
        except file_store.StoreUnavailable:
            log.warning("job %s: its upload %s stays in the store (unreachable)", job_id, key)
            return
        job.file_key = None


def run(job_id: int) -> None:
    """Do one job (the worker, in a request context: see the module's docstring)."""
    with transactions.unit_of_work():
        job = _lock(job_id)
        if job is None or job.status == BackgroundState.DONE:
            return  # done already (a retry, or another worker): nothing twice
        job.status = BackgroundState.RUNNING
        job.attempts += 1
        job.started_at = utcnow()
        job.error = ""
    try:
        with transactions.unit_of_work():
            job = _lock(job_id)
            if job.status == BackgroundState.DONE:
                return
            known = HANDLERS[job.task]
            data = file_store.files().read(_key(job)) if job.file_key else None
            with force_locale(job.locale or "ru"):
                report = known.run(job, data)
            job.result = report or {}
            job.status = BackgroundState.DONE
            job.finished_at = utcnow()
    except file_store.StoreUnavailable as error:  # not the person's fault: a retry may work
        log.error("job %s: the file store is unreachable (%s)", job_id, error)
        with transactions.unit_of_work():
            _fail(_lock(job_id), f"{type(error).__name__}: {error}")
        raise
    except UserError as refusal:
        with force_locale(job.locale or "ru"):
            message = str(refusal.message)
        with transactions.unit_of_work():
            report = {**(getattr(refusal, "report", None) or {}), REFUSED: True}
            _fail(_lock(job_id), message, report)
    except Exception as error:
        log.exception("job %s failed", job_id)
        with transactions.unit_of_work():
            _fail(_lock(job_id), f"{type(error).__name__}: {error}")
        raise  # the queue records it (failed jobs, retry button); the file stays for the retry
    _forget_file(job_id)


def install(app) -> None:
    """The queue task that runs any background job (kind from the job's row, see kinds)."""
    huey = job_queue(app)

    @huey.task(retries=0, context=False, name="run_import")
    def run_import(job_id):
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            run(job_id)

    @huey.task(retries=0, context=False, name="generate_document")
    def generate_document(job_id):
        with app.test_request_context(base_url=app.config["PORTAL_BASE_URL"]):
            run(job_id)

    class Dispatch:
        """The task of the job's kind (each kind has its own limit, see kinds.py)."""

        tasks = {kinds.IMPORTS: run_import, kinds.DOCUMENTS: generate_document}

        def _task(self, job_id):
            job = db.session.get(BackgroundJob, job_id)
            return self.tasks.get(job.kind if job else None, run_import)

        def __call__(self, job_id):
            return self._task(job_id)(job_id)

        def call_local(self, job_id):
            return self._task(job_id).call_local(job_id)

    app.extensions[TASK_EXTENSION] = Dispatch()


STALLED_ATTEMPTS = 3


def recover_if_stalled(app, job) -> bool:
    """A job pending or running for longer than the longest job may (its worker was killed, or
    its queue entry lost) goes to the queue again, a few times at most; doing it twice is
    harmless (a job done is not done again). Called when its page asks for its status."""
    if job.finished or job.attempts >= STALLED_ATTEMPTS:
        return False
    since = job.started_at or job.created_at
    lease = float(app.config.get("QUEUE_LEASE_SECONDS", 900))
    if since is None or (utcnow() - since).total_seconds() < lease:
        return False
    log.warning("job %s stalled since %s; queued again", job.id, since)
    return enqueue(app, job.id)


def act_as(user) -> None:
    """The job's work is done as the person who asked (audit names them, access rules apply):
    a handler calls this with the requester it loaded (the worker has no signed-in person)."""
    g._login_user = user  # Flask-Login's current_user for this job's request context


def start(
    task: str,
    user,
    *,
    organisation_id: int | None = None,
    data: bytes | None = None,
    filename: str = "",
    params: dict | None = None,
) -> BackgroundJob:
    """From a page: submit the job, commit it, hand it to the queue; the job as it is then
    (finished already when the queue runs in the process). The queue or the file store
    unreachable: a UserError, nothing saved."""
    app = current_app._get_current_object()
    if not available(app):
        raise UserError(
            _l(
                "The background queue is unavailable right now, so the job was not started. "
                "Nothing was saved; please try again in a few minutes."
            )
        )
    with transactions.unit_of_work():  # the worker reads the job: it is committed first
        job = submit(
            task,
            user,
            organisation_id=organisation_id,
            data=data,
            filename=filename,
            params=params,
        )
    job_id = job.id
    enqueue(app, job_id)
    db.session.expire_all()
    return db.session.get(BackgroundJob, job_id)


def refused(job) -> bool:
    """The job has finished with a refusal (its report names what to correct)."""
    return job.status == BackgroundState.FAILED and bool((job.result or {}).get(REFUSED))


@dataclass(frozen=True)
class Refusal:
    message: str
    report: dict


def refused_at_once(job) -> Refusal | None:
    """Refused before the page answered (the job ran in the process, or a worker was quick):
    the page shows the refusal as a refused form does, and the job's row is not kept either,
    so a refused form leaves nothing behind. A refusal known later stays on the job's page."""
    if not refused(job):
        return None
    refusal = Refusal(job.error, dict(job.result or {}))
    with transactions.unit_of_work():
        row = _lock(job.id)
        if row is not None:
            key = _key(row)
            if key is not None:
                with suppress(file_store.StoreUnavailable):
                    file_store.files().delete(key)
            db.session.delete(row)
    return refusal


def title_of(job):
    known = HANDLERS.get(job.task)
    return known.title if known is not None and known.title else _l("Background job")


def error_of(job) -> str:
    """What the job's page says of a failed job."""
    if job.error == QUEUE_UNAVAILABLE:
        return _(
            "The queue was unavailable, so the job was not started. Nothing was saved; "
            "please try again in a few minutes."
        )
    if (job.result or {}).get(REFUSED):
        return job.error
    return _(
        "The job could not be finished because of an error on our side; nothing of it was "
        "saved. Staff see it on the background jobs page and can run it again."
    )


def visible_to(job, user) -> bool:
    """The person who asked, or an administrator, sees the job's page."""
    return job.requested_by_id == user.id or getattr(user, "is_admin", False)
