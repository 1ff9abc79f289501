"""Retention: personal data kept no longer than its purpose needs (152-ФЗ art. 5 p. 7).

Three categories, each with a period in days (configuration, docs/OPERATIONS.md «Retention»):

- rejected applications (RETENTION_REJECTED_APPLICATION_DAYS, from the decision): deleted with
  their history; the audit log keeps that a decision was made, not who applied;
- sign-in attempts (RETENTION_LOGIN_ATTEMPT_DAYS): deleted, IP addresses with them (throttling
  looks back minutes, the person's sign-in history a year);
- meter reading photos (RETENTION_READING_PHOTO_DAYS, from the reading date): the stored file is
  removed and the reading forgets it; the reading itself stays (it is what the gas was charged
  on).

`flask privacy retention [--dry-run]` applies it (cron, nightly) and prints what it did per
category; `--enqueue` hands the same run to the background worker.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from portal import audit, clock
from portal.database import utcnow
from portal.extensions import db

REJECTED_APPLICATIONS = "rejected_applications"
SIGN_IN_ATTEMPTS = "sign_in_attempts"
READING_PHOTOS = "reading_photos"

PERIODS = {
    REJECTED_APPLICATIONS: "RETENTION_REJECTED_APPLICATION_DAYS",
    SIGN_IN_ATTEMPTS: "RETENTION_LOGIN_ATTEMPT_DAYS",
    READING_PHOTOS: "RETENTION_READING_PHOTO_DAYS",
}
DESCRIPTIONS = {
    REJECTED_APPLICATIONS: "rejected applications deleted",
    SIGN_IN_ATTEMPTS: "sign-in attempts (with IP addresses) deleted",
    READING_PHOTOS: "meter reading photos removed",
}


@dataclass
class CategoryOutcome:
    category: str
    days: int
    cutoff: object  # a datetime or a date
    count: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    outcomes: list[CategoryOutcome] = field(default_factory=list)
    files_to_remove: list[str] = field(default_factory=list)
    files_removed: int = 0

    def lines(self) -> list[str]:
        heading = "would be" if self.dry_run else "done"
        lines = []
        for outcome in self.outcomes:
            cutoff = outcome.cutoff
            shown = cutoff.date().isoformat() if isinstance(cutoff, datetime) else cutoff
            lines.append(
                f"{outcome.category}: {outcome.count} {DESCRIPTIONS[outcome.category]} "
                f"({heading}; older than {outcome.days} days, before {shown})"
            )
        if not self.dry_run:
            lines.append(f"files removed: {self.files_removed}")
        return lines

    @property
    def counts(self) -> dict:
        return {outcome.category: outcome.count for outcome in self.outcomes}


def period_days(category: str) -> int:
    days = int(current_app.config[PERIODS[category]])
    if days < 1:
        raise ValueError(f"{PERIODS[category]} must be at least 1 day")
    return days


def _rejected_applications(report: RetentionReport, now: datetime) -> None:
    from portal.onboarding.models import Application, ApplicationEvent, ApplicationStatus

    days = period_days(REJECTED_APPLICATIONS)
    cutoff = now - timedelta(days=days)
    decided = func.coalesce(Application.reviewed_at, Application.created_at)
    old = select(Application.id).where(
        Application.status == ApplicationStatus.REJECTED, decided < cutoff
    )
    ids = db.session.scalars(old).all()
    report.outcomes.append(CategoryOutcome(REJECTED_APPLICATIONS, days, cutoff, len(ids)))
    if report.dry_run or not ids:
        return
    db.session.execute(delete(ApplicationEvent).where(ApplicationEvent.application_id.in_(ids)))
    db.session.execute(delete(Application).where(Application.id.in_(ids)))


def _sign_in_attempts(report: RetentionReport, now: datetime) -> None:
    from portal.accounts.models import LoginAttempt

    days = period_days(SIGN_IN_ATTEMPTS)
    cutoff = now - timedelta(days=days)
    old = LoginAttempt.at < cutoff
    if report.dry_run:
        count = db.session.scalar(select(func.count(LoginAttempt.id)).where(old))
    else:
        count = db.session.execute(delete(LoginAttempt).where(old)).rowcount
    report.outcomes.append(CategoryOutcome(SIGN_IN_ATTEMPTS, days, cutoff, count))


def _reading_photos(report: RetentionReport) -> None:
    from portal.metering.models import Reading
    from portal.metering.services import photo_key

    days = period_days(READING_PHOTOS)
    cutoff = clock.local_today() - timedelta(days=days)
    rows = db.session.execute(
        select(Reading.id, Reading.photo_name).where(
            Reading.photo_name.isnot(None), Reading.reading_date < cutoff
        )
    ).all()
    report.outcomes.append(CategoryOutcome(READING_PHOTOS, days, cutoff, len(rows)))
    if report.dry_run or not rows:
        return
    report.files_to_remove.extend(photo_key(name) for _id, name in rows)
    db.session.execute(
        update(Reading)
        .where(Reading.id.in_([reading_id for reading_id, _name in rows]))
        .values(photo_name=None)
        .execution_options(synchronize_session=False)
    )


def apply_retention(*, dry_run: bool = False, now: datetime | None = None) -> RetentionReport:
    """Delete or anonymise what is past its period, in the current transaction (the caller
    commits, then calls `remove_files`). With dry_run nothing changes: only counts."""
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run)
    _rejected_applications(report, now)
    _sign_in_attempts(report, now)
    _reading_photos(report)
    if not dry_run:
        audit.record("privacy.retention_applied", actor=None, **report.counts)
    return report


def remove_files(report: RetentionReport) -> None:
    """Remove the stored files the committed run let go (after the commit: a rolled-back run
    keeps its files)."""
    from portal.files import store

    files = store.files()
    for key in report.files_to_remove:  # file store keys
        if files.exists(key):
            files.delete(key)
            report.files_removed += 1


def run_retention(*, dry_run: bool = False) -> RetentionReport:
    """One whole run: apply, commit, remove the files (the command and the queue job)."""
    try:
        report = apply_retention(dry_run=dry_run)
    except Exception:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
        return report
    db.session.commit()
    remove_files(report)
    current_app.logger.info("retention applied: %s", "; ".join(report.lines()))
    return report


# --- the queue job ----------------------------------------------------------------------------


def register_queue_task(app) -> None:
    """Put the retention run on the background queue the statements use (`flask worker`
    consumes both). Without a queue (none configured) there is nothing to register."""
    queue = app.extensions.get("statements_queue")
    if queue is None or "privacy_retention" in app.extensions:
        return

    @queue.huey.task(retries=0, context=False, name="privacy_retention")
    def privacy_retention():
        with app.app_context():
            run_retention()

    app.extensions["privacy_retention"] = privacy_retention


def enqueue_retention(app):
    """Ask the worker to run the retention policy (returns Huey's result handle)."""
    return app.extensions["privacy_retention"]()
