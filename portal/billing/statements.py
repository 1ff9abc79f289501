"""Reconciliation statements («акт сверки взаимных расчётов») from the ledger.

The figures come only from the ledger (portal.billing.ledger); the PDF and the XLSX are both
made from one `Statement`, so they cannot disagree.
"""

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import transactions
from portal.billing import lookups
from portal.billing.ledger import LedgerEntry
from portal.billing.models import JobStatus, StatementJob
from portal.billing.settlements import settlement
from portal.database import utcnow
from portal.documents.subjects import SubjectError, is_registered, resolve_subject
from portal.errors import UserError
from portal.extensions import db
from portal.files import store as file_store
from portal.money import to_money
from portal.organisations.models import Organisation

log = logging.getLogger(__name__)
# Bump when the layout of the files changes, so old files are not reused.
LAYOUT_VERSION = "2"


@dataclass
class StatementLine:
    entry_date: date
    document: str
    debit: Decimal
    credit: Decimal
    url: str | None = None  # the primary document's PDF (absolute, PORTAL_BASE_URL)


@dataclass
class Statement:
    organisation: Organisation
    supplier: dict
    start: date
    end: date
    contract_id: int | None
    contract_label: str | None
    opening: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    contract_number: str | None = None  # as the act prints it: «по договору № …»
    # Payments not yet applied to a charge at the end of the period (see settlements).
    unallocated: Decimal = Decimal("0.00")
    unallocated_elsewhere: Decimal = Decimal("0.00")

    @property
    def turnover_debit(self) -> Decimal:
        return to_money(sum((line.debit for line in self.lines), Decimal("0")))

    @property
    def turnover_credit(self) -> Decimal:
        return to_money(sum((line.credit for line in self.lines), Decimal("0")))

    @property
    def closing(self) -> Decimal:
        return to_money(self.opening + self.turnover_debit - self.turnover_credit)

    @property
    def opening_debit(self) -> Decimal:
        return max(self.opening, Decimal("0.00"))

    @property
    def opening_credit(self) -> Decimal:
        return max(-self.opening, Decimal("0.00"))

    @property
    def closing_debit(self) -> Decimal:
        return max(self.closing, Decimal("0.00"))

    @property
    def closing_credit(self) -> Decimal:
        return max(-self.closing, Decimal("0.00"))

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        organisation = self.organisation
        for part in (
            LAYOUT_VERSION,
            organisation.id,
            organisation.legal_name,
            organisation.inn,
            organisation.kpp,
            organisation.legal_address,
            organisation.bank_details,
            sorted(self.supplier.items()),
            self.start,
            self.end,
            self.contract_id,
            self.contract_label,
            self.contract_number,
            self.opening,
            self.unallocated,
            self.unallocated_elsewhere,
        ):
            digest.update(repr(part).encode() + b"\x1f")
        for line in self.lines:
            digest.update(
                repr((line.entry_date, line.document, line.debit, line.credit, line.url)).encode()
            )
        return digest.hexdigest()


def validate_period(start: date | None, end: date | None) -> None:
    if start is None or end is None:
        raise UserError(_l("Enter both dates of the period."), "period_start")
    if end < start:
        raise UserError(_l("The end of the period is before its start."), "period_end")
    if (end - start).days > 366 * 5:
        raise UserError(_l("A statement covers at most five years."), "period_end")


def organisation_contracts(organisation_id) -> list[tuple[int, str]]:
    """Contracts that appear in the organisation's ledger, with labels where known."""
    ids = db.session.scalars(
        select(LedgerEntry.contract_id)
        .distinct()
        .where(LedgerEntry.organisation_id == organisation_id, LedgerEntry.contract_id.isnot(None))
        .order_by(LedgerEntry.contract_id)
    ).all()
    return [(contract_id, contract_label(organisation_id, contract_id)) for contract_id in ids]


def contract_label(organisation_id, contract_id) -> str:
    if is_registered("contract"):
        try:
            return resolve_subject(organisation_id, "contract", contract_id).label
        except SubjectError:
            pass
    return str(_l("Contract №%(number)s", number=contract_id))


def build_statement(organisation_id, start, end, contract_id=None) -> Statement:
    """Opening balance, every entry of the period, turnover and closing balance."""
    validate_period(start, end)
    organisation = db.session.get(Organisation, organisation_id)
    if contract_id is not None and contract_id not in dict(organisation_contracts(organisation_id)):
        raise UserError(_l("Your organisation has no such contract."), "contract_id")
    period = settlement(organisation_id, start, end, contract_id)
    statement = Statement(
        organisation=organisation,
        supplier=supplier_requisites(),
        start=start,
        end=end,
        contract_id=contract_id,
        contract_label=contract_label(organisation_id, contract_id) if contract_id else None,
        contract_number=_contract_number(contract_id),
        opening=period.opening,
        unallocated=period.unallocated,
        unallocated_elsewhere=period.unallocated_elsewhere,
    )
    from portal.billing.document_links import document_url, documents_of_entries

    documents = documents_of_entries(line.entry_id for line in period.lines)
    statement.lines = [
        StatementLine(
            line.entry_date,
            line.document,
            line.debit,
            line.credit,
            document_url(documents[line.entry_id], external=True)
            if line.entry_id in documents
            else None,
        )
        for line in period.lines
    ]
    return statement


def _contract_number(contract_id) -> str | None:
    if contract_id is None:
        return None
    contract = lookups.contracts().get(contract_id)
    return contract.number if contract is not None else str(contract_id)


# The signatories of the supplier: settings SUPPLIER_DIRECTOR_NAME, SUPPLIER_DIRECTOR_POSITION,
# SUPPLIER_ACCOUNTANT_NAME, SUPPLIER_ACCOUNTANT_POSITION (or the same keys, lower case without
# the prefix, in the SUPPLIER dictionary); OGRN from SUPPLIER_OGRN likewise.
SIGNATORY_DEFAULTS = {
    "director_position": "Генеральный директор",
    "director_name": "",
    "accountant_position": "Главный бухгалтер",
    "accountant_name": "",
    "ogrn": "",
}


def supplier_requisites() -> dict:
    supplier = dict(current_app.config["SUPPLIER"])
    for key, default in SIGNATORY_DEFAULTS.items():
        if not supplier.get(key):
            supplier[key] = current_app.config.get(f"SUPPLIER_{key.upper()}") or default
    return supplier


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- jobs -----------------------------------------------------------------------------------


def report_key(name: str) -> str:
    """The key of a statement file in the reports file store."""
    return f"statements/{name}"


def _files_exist(job) -> bool:
    files = file_store.reports()
    return bool(
        job.pdf_name
        and job.xlsx_name
        and files.exists(report_key(job.pdf_name))
        and files.exists(report_key(job.xlsx_name))
    )


def request_statement(organisation, user, start, end, contract_id=None):
    """Return (job, reused): an existing job for identical data, or a new queued one."""
    statement = build_statement(organisation.id, start, end, contract_id)
    fingerprint = statement.fingerprint()
    candidates = db.session.scalars(
        select(StatementJob)
        .where(
            StatementJob.organisation_id == organisation.id,
            StatementJob.fingerprint == fingerprint,
            StatementJob.status != JobStatus.FAILED,
        )
        .order_by(StatementJob.id.desc())
    ).all()
    for job in candidates:
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and is_stalled(job):
            if recover_stalled(job):
                return job, False  # requeued: the caller hands it to the worker again
            continue
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) or _files_exist(job):
            return job, True
    job = StatementJob(
        organisation_id=organisation.id,
        requested_by_id=user.id,
        contract_id=contract_id,
        contract_label=statement.contract_label,
        period_start=start,
        period_end=end,
        status=JobStatus.QUEUED,
        fingerprint=fingerprint,
        queued_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job, False


def retry(job) -> None:
    if job.status != JobStatus.FAILED:
        raise UserError(_l("Only a failed statement can be retried."))
    job.status = JobStatus.QUEUED
    job.progress = 0
    job.error = None
    job.attempts = 0
    job.queued_at = utcnow()
    db.session.flush()


MAX_ATTEMPTS = 2


def is_stalled(job, now=None) -> bool:
    """True when the worker that had the job has evidently stopped (killed, machine lost)."""
    timeout = timedelta(minutes=float(current_app.config.get("STATEMENT_JOB_TIMEOUT_MINUTES", 10)))
    cutoff = (now or utcnow()) - timeout
    if job.status == JobStatus.RUNNING:
        return job.started_at is not None and job.started_at < cutoff
    if job.status == JobStatus.QUEUED:
        return (job.queued_at or job.created_at) < cutoff
    return False


def recover_stalled(job) -> bool:
    """Requeue a stalled job, or report it failed after MAX_ATTEMPTS; True if it must be queued."""
    if job.attempts < MAX_ATTEMPTS:
        log.warning("statement job %s stalled (%s); requeued", job.id, job.status)
        job.status = JobStatus.QUEUED
        job.progress = 0
        job.started_at = None
        job.queued_at = utcnow()
        db.session.flush()
        return True
    log.error("statement job %s stalled %s times; reported failed", job.id, job.attempts)
    job.status = JobStatus.FAILED
    job.error = "the worker stopped while preparing this statement"
    job.finished_at = utcnow()
    db.session.flush()
    return False


def recover_all_stalled() -> list[int]:
    """Recover every stalled job (the worker does this when it starts); ids to requeue."""
    jobs = db.session.scalars(
        select(StatementJob).where(StatementJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
    ).all()
    return [job.id for job in jobs if is_stalled(job) and recover_stalled(job)]


def _set_progress(job, status, progress):
    with transactions.unit_of_work():  # each step is committed so the page shows progress
        job.status = status
        job.progress = progress


def run_job(job_id: int) -> None:
    """Produce the PDF and the XLSX of one job (called by the worker, in an app context)."""
    from portal.billing import rendering

    job = db.session.get(StatementJob, job_id)
    if job is None or job.status == JobStatus.DONE:
        return
    job.started_at = utcnow()
    job.attempts += 1
    _set_progress(job, JobStatus.RUNNING, 5)
    written = []
    try:
        with transactions.unit_of_work():  # a failure rolls the unfinished step back
            statement = build_statement(
                job.organisation_id, job.period_start, job.period_end, job.contract_id
            )
            _set_progress(job, JobStatus.RUNNING, 20)
            files = file_store.reports()  # the files first, the row's names after
            token = secrets.token_hex(16)
            pdf_name, xlsx_name = f"{token}.pdf", f"{token}.xlsx"
            files.put(report_key(pdf_name), rendering.statement_pdf(statement), "application/pdf")
            written.append(report_key(pdf_name))
            _set_progress(job, JobStatus.RUNNING, 75)
            files.put(report_key(xlsx_name), rendering.statement_xlsx(statement), XLSX_TYPE)
            written.append(report_key(xlsx_name))
            job.pdf_name, job.xlsx_name = pdf_name, xlsx_name
            # The data may have changed since the request: the files show what the worker read.
            job.fingerprint = statement.fingerprint()
            job.finished_at = utcnow()
            _set_progress(job, JobStatus.DONE, 100)
    except Exception as error:
        log.exception("statement job %s failed", job_id)
        for key in written:
            with contextlib.suppress(file_store.StoreUnavailable):
                file_store.reports().delete(key)
        job = db.session.get(StatementJob, job_id)
        job.error = f"{type(error).__name__}: {error}"[:1000]
        job.finished_at = utcnow()
        _set_progress(job, JobStatus.FAILED, job.progress or 0)


def jobs_for(organisation_id, limit=20):
    return db.session.scalars(
        select(StatementJob)
        .where(StatementJob.organisation_id == organisation_id)
        .order_by(StatementJob.id.desc())
        .limit(limit)
    ).all()


def file_key(job, fmt) -> str | None:
    """The reports store key of a done job's file (file_store.send answers 404 if missing)."""
    name = {"pdf": job.pdf_name, "xlsx": job.xlsx_name}.get(fmt)
    if job.status != JobStatus.DONE or not name:
        return None
    return report_key(name)
