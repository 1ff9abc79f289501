"""Wiring of the queue for scale: per-kind limits, the failed-jobs record, mail as a job."""

import base64
import logging
from email import message_from_bytes, policy

from flask import current_app
from huey import signals
from huey.api import PeriodicTask
from huey.exceptions import CancelExecution
from huey.storage import RedisStorage
from huey.utils import normalize_time

from portal.jobs import kinds
from portal.jobs.limits import KindSemaphores
from portal.jobs.queue import job_queue

log = logging.getLogger(__name__)
MAIL_SENT_DAYS = 7  # a retried mail job does not send again what was sent this recently


def install(app) -> None:
    huey = job_queue(app)
    limits = kinds.parse_limits(app.config.get("QUEUE_LIMITS"))
    semaphores = None
    if isinstance(huey.storage, RedisStorage):
        semaphores = KindSemaphores(
            huey.storage.conn,
            f"{huey.name}:{app.config['CACHE_KEY_PREFIX']}",
            limits,
            float(app.config.get("QUEUE_LEASE_SECONDS", 900)),
        )
    defer_seconds = float(app.config.get("QUEUE_DEFER_SECONDS", 2))
    app.extensions["job_semaphores"] = semaphores
    app.extensions["job_limits"] = limits

    install_limits(huey, semaphores, defer_seconds)
    install_failure_record(app, huey)

    @huey.task(retries=2, retry_delay=30, context=False)
    def send_mail(encoded: str):
        deliver_queued_mail(app, huey, encoded)

    app.extensions["mail_task"] = send_mail


def install_limits(huey, semaphores: KindSemaphores | None, defer_seconds: float) -> None:
    """A job runs only with a free slot of its kind; else it goes back to the schedule."""

    @huey.pre_execute(name="kind_limit")
    def take_slot(task):
        if semaphores is None or isinstance(task, PeriodicTask):
            return
        if not semaphores.acquire(kinds.kind_of(task.name), task.id):
            # Its kind is full: back to the schedule; the worker takes the next job.
            task.eta = normalize_time(delay=defer_seconds, utc=huey.utc)
            huey.add_schedule(task)
            raise CancelExecution(retry=False)

    @huey.post_execute(name="kind_limit")
    def give_slot(task, value, exception):
        if semaphores is not None and not isinstance(task, PeriodicTask):
            semaphores.release(kinds.kind_of(task.name), task.id)


def install_failure_record(app, huey) -> None:
    @huey.signal(signals.SIGNAL_ERROR)
    def record_failure(signal, task, exception=None):
        if task.retries:  # Huey runs it again: not failed yet
            return
        record_failed_job(app, huey, task, exception)


def record_failed_job(app, huey, task, exception) -> None:
    from portal import transactions
    from portal.extensions import db
    from portal.jobs.models import FailedJob

    try:
        with app.app_context(), transactions.unit_of_work():
            db.session.add(
                FailedJob(
                    task_id=task.id,
                    task_name=huey._registry.task_to_string(type(task)),
                    kind=kinds.kind_of(task.name),
                    arguments={"args": list(task.args or ()), "kwargs": dict(task.kwargs or {})},
                    error=f"{type(exception).__name__}: {exception}"[:2000],
                )
            )
    except Exception:  # noqa: BLE001 - the worker goes on; the log has the job
        log.exception("could not record the failed job %s (%s)", task.id, task.name)


def queue_mail(app, message) -> bool:
    """Hand a committed transaction's message to the queue (PORTAL_MAIL_QUEUE); False when
    mail is sent in the process (off, or the queue is unreachable: then it goes out now)."""
    task = app.extensions.get("mail_task")
    if task is None or not app.config.get("MAIL_QUEUE") or task.huey.immediate:
        return False
    try:
        task(base64.b64encode(bytes(message)).decode("ascii"))
    except Exception as error:  # noqa: BLE001 - any broker failure: deliver it here instead
        app.logger.warning("mail queue unreachable (%s); sending in the request", error)
        return False
    return True


def deliver_queued_mail(app, huey, encoded: str) -> None:
    from portal.mail import deliver

    message = message_from_bytes(base64.b64decode(encoded), policy=policy.default)
    sent_key = f"{huey.name}:mail-sent:{message['Message-ID']}"
    redis = huey.storage.conn if isinstance(huey.storage, RedisStorage) else None
    if redis is not None and redis.exists(sent_key):
        log.info("mail %s was sent already; not again", message["Message-ID"])
        return
    with app.app_context():
        deliver(current_app._get_current_object(), message)
    if redis is not None:
        redis.set(sent_key, "1", ex=MAIL_SENT_DAYS * 86400)


def retry_failed_job(app, failed) -> None:
    """Enqueue a failed job again with its arguments (the staff dashboard's button)."""
    huey = job_queue(app)
    task_class = huey._registry.string_to_task(failed.task_name)
    arguments = failed.arguments or {}
    huey.enqueue(
        task_class(args=tuple(arguments.get("args", ())), kwargs=arguments.get("kwargs") or {})
    )


def depth_by_kind(app, limit: int = 10000) -> dict[str, dict[str, int]]:
    """Jobs waiting, deferred (scheduled: retries, delays, a full kind) and running, per kind."""
    huey = job_queue(app)
    semaphores = app.extensions.get("job_semaphores")
    depth = {kind: {"waiting": 0, "scheduled": 0, "running": 0} for kind in kinds.LABELS}
    for task in huey.pending(limit=limit):
        depth[kinds.kind_of(task.name)]["waiting"] += 1
    for task in huey.scheduled(limit=limit):
        depth[kinds.kind_of(task.name)]["scheduled"] += 1
    if semaphores is not None:
        for kind in depth:
            if semaphores.limits.get(kind):
                depth[kind]["running"] = semaphores.running(kind)
    return depth
