"""Settlements: balance, ledger lines of a period, reconciliation statements (/api/v1).

The figures are the settlement account page's (`portal.billing.settlements.settlement`);
statements are the page's jobs (`portal.billing.statements.request_statement`, made by the
background worker), polled and downloaded here.
"""

from datetime import date

import marshmallow as ma
from flask import current_app, g, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal import clock
from portal.api.auth import requires
from portal.api.problems import Problem
from portal.api.schemas import MAX_ID, DecimalString, StrictSchema
from portal.billing import allocation, ledger, payment_status, statements
from portal.billing import statement_views as statement_pages
from portal.billing.models import JobStatus, StatementJob
from portal.billing.settlements import settlement
from portal.extensions import db
from portal.files import store as file_store
from portal.organisations.models import Power

blp = Blueprint(
    "api_settlements",
    __name__,
    url_prefix="/api/v1",
    description="Balance, ledger lines by period, reconciliation statements",
)

MAX_LIMIT = 500
STATEMENT_FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class BalanceSchema(ma.Schema):
    balance = DecimalString(
        required=True,
        metadata={"description": "Debt (positive) or overpayment (negative), RUB, VAT included"},
    )
    to_pay = DecimalString(required=True, metadata={"description": "Open documents, in total"})
    overdue = DecimalString(required=True, metadata={"description": "Past their due date"})
    overdue_documents = ma.fields.Integer(required=True)
    unallocated = DecimalString(
        required=True, metadata={"description": "Money paid not yet applied to any charge"}
    )
    currency = ma.fields.String(required=True, metadata={"example": "RUB"})
    as_of = ma.fields.Date(required=True)


class LedgerQuery(StrictSchema):
    from_ = ma.fields.Date(
        data_key="from", metadata={"description": "First day (default: 1 January this year)"}
    )
    to = ma.fields.Date(metadata={"description": "Last day (default: today)"})
    contract = ma.fields.Integer(metadata={"description": "A contract's id: its lines only"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    cursor = ma.fields.String(validate=ma.validate.Length(max=500))


class LedgerLineSchema(ma.Schema):
    entry_id = ma.fields.Integer(required=True)
    date = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": ["charge", "payment", "adjustment"]})
    document = ma.fields.String(
        required=True, metadata={"description": "As the «Акт сверки» names it"}
    )
    debit = DecimalString(required=True)
    credit = DecimalString(required=True)
    vat = DecimalString(required=True, metadata={"description": "VAT in the debit"})
    balance = DecimalString(required=True, metadata={"description": "After this line"})
    unallocated = DecimalString(
        required=True, metadata={"description": "A payment's money not yet applied (today)"}
    )


class LedgerPageSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", required=True)
    to = ma.fields.Date(required=True)
    contract = ma.fields.Integer(allow_none=True, required=True)
    opening = DecimalString(required=True, metadata={"description": "Balance at the start"})
    closing = DecimalString(required=True, metadata={"description": "Balance at the end"})
    entries = ma.fields.List(ma.fields.Nested(LedgerLineSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class StatementBody(StrictSchema):
    from_ = ma.fields.Date(data_key="from", required=True)
    to = ma.fields.Date(required=True)
    contract = ma.fields.Integer(
        allow_none=True, metadata={"description": "A gas contract's id (default: all)"}
    )


class StatementJobSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": [status.value for status in JobStatus]}
    )
    progress = ma.fields.Integer(required=True, metadata={"description": "Percent"})
    from_ = ma.fields.Date(data_key="from", required=True)
    to = ma.fields.Date(required=True)
    contract = ma.fields.Integer(allow_none=True, required=True)
    requested_at = ma.fields.AwareDateTime(required=True)
    downloads = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "Format → URL, once the status is done"},
    )


def _organisation_id():
    return g.membership.organisation_id


def _contract(organisation_id, contract_id, location="query", name="contract"):
    if contract_id is None:
        return None
    if contract_id not in dict(statements.organisation_contracts(organisation_id)):
        raise Problem(
            422,
            _l("Correct the fields listed in «errors»."),
            errors=[
                {
                    "location": location,
                    "field": name,
                    "message": str(_l("The organisation has no such contract.")),
                }
            ],
        )
    return contract_id


@blp.route("/balance")
@requires(Power.VIEW_FINANCE)
@blp.response(200, BalanceSchema)
def balance():
    """The organisation's balance today, what is open and overdue, unallocated money."""
    organisation_id = _organisation_id()
    summary = payment_status.summary(organisation_id)
    return {
        "balance": ledger.balance(organisation_id),
        "to_pay": summary.to_pay,
        "overdue": summary.overdue,
        "overdue_documents": summary.overdue_count,
        "unallocated": allocation.unallocated_total(organisation_id),
        "currency": "RUB",
        "as_of": clock.local_today(),
    }


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt="api.ledger.cursor")


def _cursor_problem(message):
    return Problem(
        422,
        _l("Correct the fields listed in «errors»."),
        errors=[{"location": "query", "field": "cursor", "message": str(message)}],
    )


@blp.route("/ledger")
@requires(Power.VIEW_FINANCE)
@blp.arguments(LedgerQuery, location="query", as_kwargs=True)
@blp.response(200, LedgerPageSchema)
def list_ledger(limit=100, cursor=None, contract=None, to=None, **period):
    """The settlement account's lines of a period with the running balance, a page at a time.

    The same lines and balances as the settlement account page and the «Акт сверки». Follow
    `next_cursor` (alone: it carries the period and the contract) to the end."""
    organisation_id = _organisation_id()
    start, offset = period.get("from_"), 0
    if cursor:
        try:
            start_text, end_text, contract, offset = _serializer().loads(cursor)
            start, to = date.fromisoformat(start_text), date.fromisoformat(end_text)
            offset = int(offset)
        except (BadSignature, ValueError, TypeError):
            raise _cursor_problem(_l("The cursor is not one this API gave.")) from None
    today = clock.local_today()
    start = start or date(today.year, 1, 1)
    end = to or today
    if end < start:
        raise Problem(
            422,
            _l("Correct the fields listed in «errors»."),
            errors=[
                {
                    "location": "query",
                    "field": "to",
                    "message": str(_l("The end of the period is before its start.")),
                }
            ],
        )
    contract = _contract(organisation_id, contract)
    period_lines = settlement(organisation_id, start, end, contract)
    lines = period_lines.lines[offset : offset + limit]
    more = offset + limit < len(period_lines.lines)
    return {
        "from_": start,
        "to": end,
        "contract": contract,
        "opening": period_lines.opening,
        "closing": period_lines.closing,
        "entries": [
            {
                "entry_id": line.entry_id,
                "date": line.entry_date,
                "kind": str(line.kind),
                "document": line.document,
                "debit": line.debit,
                "credit": line.credit,
                "vat": line.vat,
                "balance": line.balance,
                "unallocated": line.unallocated,
            }
            for line in lines
        ],
        "next_cursor": (
            _serializer().dumps([start.isoformat(), end.isoformat(), contract, offset + limit])
            if more
            else None
        ),
    }


def _job_payload(job):
    downloads = {}
    if job.status == JobStatus.DONE:
        downloads = {
            fmt: url_for("api_settlements.download_statement", job_id=job.id, fmt=fmt)
            for fmt in STATEMENT_FORMATS
        }
    return {
        "id": job.id,
        "status": str(job.status),
        "progress": job.progress,
        "from_": job.period_start,
        "to": job.period_end,
        "contract": job.contract_id,
        "requested_at": job.created_at,
        "downloads": downloads,
    }


def _job(job_id):
    job = (
        None
        if job_id > MAX_ID
        else db.session.scalar(
            select(StatementJob).where(
                StatementJob.id == job_id, StatementJob.organisation_id == _organisation_id()
            )
        )
    )
    if job is None:
        raise Problem(404, _l("There is no statement with this id in your organisation."))
    return job


@blp.route("/statements", methods=["POST"])
@requires(Power.VIEW_FINANCE)
@blp.arguments(StatementBody, as_kwargs=True)
@blp.response(202, StatementJobSchema)
def request_statement(to, from_, contract=None):
    """Request a «Акт сверки» for a period (and a contract): returns its job to poll.

    Identical data reuses the job (and its files) already made. While the background
    worker's queue is unavailable: 503, nothing saved."""
    membership = g.membership
    contract = _contract(membership.organisation_id, contract, "json")
    if not statement_pages._queue_available():
        raise Problem(503, statement_pages._queue_unavailable_message())
    try:
        statements.validate_period(from_, to)
        job, reused = statements.request_statement(
            membership.organisation, membership.user, from_, to, contract
        )
    except statements.StatementError as error:
        db.session.rollback()
        field = {"period_start": "from", "period_end": "to"}.get(error.field, "to")
        raise Problem(
            422,
            _l("Correct the fields listed in «errors»."),
            errors=[{"location": "json", "field": field, "message": str(error.message)}],
        ) from None
    job_id = job.id
    db.session.commit()
    if not reused:
        statement_pages._enqueue(job_id)
    return _job_payload(db.session.get(StatementJob, job_id))


@blp.route("/statements/<int:job_id>")
@requires(Power.VIEW_FINANCE)
@blp.response(200, StatementJobSchema)
def show_statement(job_id):
    """A statement job: queued, running (with progress), done (with download URLs), failed.

    A job whose worker died is requeued once, then reported failed (never stuck)."""
    job = _job(job_id)
    if statements.is_stalled(job):
        requeue = statements.recover_stalled(job)
        db.session.commit()
        if requeue:
            statement_pages._enqueue(job.id)
        job = _job(job_id)
    return _job_payload(job)


@blp.route("/statements/<int:job_id>.<string:fmt>")
@requires(Power.VIEW_FINANCE)
@blp.response(
    200,
    content_type="application/octet-stream",
    description="The file (application/pdf or XLSX)",
)
@blp.alt_response(404, description="No such job, format, or the job is not done yet")
def download_statement(job_id, fmt):
    """Download a done statement as `pdf` or `xlsx` (404 until its status is done)."""
    job = _job(job_id)
    if fmt not in STATEMENT_FORMATS:
        raise Problem(404, _l("A statement is downloaded as pdf or xlsx."))
    key = statements.file_key(job, fmt)
    if key is None:
        raise Problem(404, _l("The statement is not ready yet: poll its job until it is done."))
    name = f"akt-sverki-{job.period_start:%Y%m%d}-{job.period_end:%Y%m%d}.{fmt}"
    return file_store.send(  # nosniff, private, no-store; 404 if missing, 503 if unreachable
        file_store.reports(), key, download_name=name, content_type=STATEMENT_FORMATS[fmt]
    )
