"""The settlement account page of both kinds of customer, its XLSX, and a manager's
re-allocation of a payment."""

import io
import math
from datetime import date
from decimal import Decimal

from flask import (
    abort,
    current_app,
    render_template,
    request,
    send_file,
)
from flask_babel import gettext as _

from portal import clock
from portal.billing import allocation, bp, document_links, ledger, payment_qr, payment_status
from portal.billing.forms import AccountFilterForm, PaymentQrForm
from portal.billing.models import LedgerEntry
from portal.billing.settlements import settlement
from portal.billing.statements import organisation_contracts
from portal.extensions import db
from portal.form_fields import choices
from portal.formatting import money
from portal.money import MoneyError, to_money
from portal.organisations.models import Power
from portal.reports import xlsx
from portal.security import access, current_organisation

PER_PAGE = 50
ZERO = Decimal("0.00")


class LinePage:
    """One page of a period's lines, shaped like Flask-SQLAlchemy's pagination."""

    def __init__(self, items, page, per_page=PER_PAGE):
        self.total = len(items)
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = min(max(page, 1), self.pages)
        start = (self.page - 1) * per_page
        self.items = items[start : start + per_page]

    def iter_pages(self):
        return range(1, self.pages + 1)


def _filters(organisation):
    """The period (default: this year to today) and the contract asked for, or a 404."""
    form = AccountFilterForm(request.args)
    contracts = organisation_contracts(organisation.id)
    form.contract_id.choices = choices([("", _("All contracts"))] + contracts)
    form.validate()
    today = date.today()
    start = form.period_start.data or date(today.year, 1, 1)
    end = form.period_end.data or today
    if end < start:
        form.period_end.errors = [_("The end of the period is before its start.")]
        end = start
    contract_id = None
    if form.contract_id.data:
        try:
            contract_id = int(form.contract_id.data)
        except ValueError:
            abort(404)
        if contract_id not in dict(contracts):
            abort(404)
    form.period_start.data, form.period_end.data = start, end
    return form, start, end, contract_id


# Decorators apply bottom-up: /settlements/ is registered first, so url_for builds it;
# the old address of the gas account page keeps working.
@bp.route("/metering/account")
@bp.route("/settlements/")
@access.power(Power.VIEW_FINANCE)
def account():
    organisation = current_organisation()
    form, start, end, contract_id = _filters(organisation)
    period = settlement(organisation.id, start, end, contract_id)
    today = date.today()
    # The balance at the top is today's, whatever period the table shows.
    current = period if end == today else settlement(organisation.id, today, today, contract_id)
    page = LinePage(period.lines, request.args.get("page", 1, type=int))
    arguments = {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "contract_id": contract_id or "",
    }
    documents = payment_status.organisation_open_documents(organisation.id, include_invoices=True)
    line_documents = document_links.documents_of_entries(line.entry_id for line in page.items)
    debt = max(ledger.balance(organisation.id), ZERO)
    overdue = min(sum((d.open_amount for d in documents if d.is_overdue), ZERO), debt)
    qr_form = PaymentQrForm(request.args, prefix="qr")
    requested, qr_error = None, None
    if "qr-scope" in request.args:
        requested, qr_error = _qr_request(qr_form, debt, overdue, documents)
    return render_template(
        "billing/account.html",
        organisation=organisation,
        form=form,
        period=period,
        page=page,
        arguments=arguments,
        balance=current.closing,
        unallocated_now=allocation.unallocated_total(organisation.id, contract_id=contract_id),
        line_status=_line_statuses(organisation.id, page.items, documents),
        line_documents=line_documents,
        to_pay=debt,
        debt=debt,
        overdue=overdue,
        qr_form=qr_form,
        qr_error=qr_error,
        payment_qr=requested,
    ), (422 if qr_error else 200)


@bp.route("/settlements/to-pay")
@access.power(Power.VIEW_FINANCE)
def to_pay():
    """The organisation's documents with money open: status, due date, days overdue."""
    organisation = current_organisation()
    documents = payment_status.organisation_open_documents(organisation.id, include_invoices=True)
    return render_template(
        "billing/to_pay.html",
        documents=documents,
        to_pay=sum((d.open_amount for d in documents if d.entry_id is not None), ZERO),
        overdue=sum((d.open_amount for d in documents if d.is_overdue), ZERO),
    )


def _line_statuses(organisation_id, lines, documents):
    """{entry id: status} of the charges among the lines shown (paid ones included)."""
    open_now = {d.entry_id: d for d in documents if d.entry_id is not None}
    statuses = {}
    for line in lines:
        if not line.debit:
            continue
        if line.entry_id in open_now:
            statuses[line.entry_id] = open_now[line.entry_id]
        else:
            entry = db.session.get(LedgerEntry, line.entry_id)
            status = payment_status.document_status(entry)
            if status is not None:
                statuses[line.entry_id] = status
    return statuses


def _qr_request(form, debt, overdue, documents):
    """(PaymentQr, None) for the amount asked, or (None, the message next to the field)."""
    scope = form.scope.data
    if scope == "overdue":
        amount = overdue
        if amount <= 0:
            return None, _("Nothing is overdue.")
    elif scope == "amount":
        try:
            amount = to_money((form.amount.data or "").strip().replace(" ", ""))
        except MoneyError:
            return None, _("Enter the amount as a number, e.g. 1500,00.")
        if amount <= 0:
            return None, _("The amount must be more than zero.")
        if amount > debt:
            return None, _(
                "The amount is more than the open balance of %(balance)s.",
                balance=money(debt),
            )
    else:
        amount = debt
        if amount <= 0:
            return None, _("There is no debt to pay.")
    ledger_documents = [
        d for d in documents if d.entry_id is not None and (scope != "overdue" or d.is_overdue)
    ]
    purpose = payment_qr.debt_purpose(ledger_documents, amount, clock.local_today())
    return payment_qr.build_qr(current_app.config["SUPPLIER"], amount, purpose), None


@bp.route("/settlements/account.xlsx")
@access.power(Power.VIEW_FINANCE)
def account_xlsx():
    organisation = current_organisation()
    _form, start, end, contract_id = _filters(organisation)
    period = settlement(organisation.id, start, end, contract_id)
    content = account_workbook(organisation, period)
    response = send_file(
        io.BytesIO(content),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"settlements-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def account_workbook(organisation, period) -> bytes:
    workbook, sheet = xlsx.new_write_only(
        _("Settlement account"), column_widths=(12, 58, 15, 15, 15, 15, 15, 15)
    )
    c = xlsx.cell
    sheet.append([c(sheet, organisation.legal_name, bold=True)])
    sheet.append(
        [
            c(
                sheet,
                _(
                    "Period: %(start)s — %(end)s",
                    start=f"{period.start:%d.%m.%Y}",
                    end=f"{period.end:%d.%m.%Y}",
                ),
            )
        ]
    )
    sheet.append([])
    header = [
        _("Date"),
        _("Document"),
        _("Net"),
        _("VAT"),
        _("Charged"),
        _("Paid"),
        _("Balance"),
        _("Unallocated"),
    ]
    sheet.append([c(sheet, text, bold=True) for text in header])
    sheet.append(
        [
            None,
            c(sheet, _("Opening balance"), bold=True),
            None,
            None,
            None,
            None,
            c(sheet, period.opening, bold=True),
        ]
    )
    for line in period.lines:
        sheet.append(
            [
                c(sheet, line.entry_date, number_format=xlsx.DATE_FORMAT),
                line.document,
                c(sheet, line.net) if line.debit else None,
                c(sheet, line.vat) if line.debit else None,
                c(sheet, line.debit) if line.debit else None,
                c(sheet, line.credit) if line.credit else None,
                c(sheet, line.balance),
                c(sheet, line.unallocated) if line.unallocated else None,
            ]
        )
    sheet.append(
        [
            None,
            c(sheet, _("Turnover"), bold=True),
            c(sheet, period.turnover_debit - period.turnover_vat, bold=True),
            c(sheet, period.turnover_vat, bold=True),
            c(sheet, period.turnover_debit, bold=True),
            c(sheet, period.turnover_credit, bold=True),
            None,
            None,
        ]
    )
    sheet.append(
        [
            None,
            c(sheet, _("Closing balance"), bold=True),
            None,
            None,
            None,
            None,
            c(sheet, period.closing, bold=True),
        ]
    )
    sheet.append(
        [
            None,
            c(sheet, _("Payments not yet allocated to documents")),
            None,
            None,
            None,
            None,
            None,
            c(sheet, period.unallocated),
        ]
    )
    return xlsx.to_bytes(workbook)
