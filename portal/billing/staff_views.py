"""The back office's side of billing (/backoffice/billing/...): payments and adjustments
entered by staff, the bank statement import, VAT rates, staff copies of primary documents, a
shipment's correction (УКД), one payment's allocation, receivables and credit holds.

Nothing here commits: the request does, at its end; a refused form answers 422 and what the
view wrote is rolled back (portal/transactions.py). Where a refused page shows figures the
refused change touched, the change runs in a savepoint, so the page shows them as they stay."""

import io
from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import errors, transactions
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import StaffRole
from portal.billing import (
    allocation,
    bp,
    lookups,
    payments,
    primary,
    queue,
    receivables,
    tax,
    ukd,
)
from portal.billing.document_views import XLSX_TYPE, pdf_response, xml_response
from portal.billing.forms import (
    AdjustmentForm,
    AllocationForm,
    BankStatementForm,
    ClearCreditHoldForm,
    CreditHoldForm,
    PaymentForm,
    VatRateForm,
)
from portal.billing.models import DocumentKind, EntryKind, LedgerEntry, PrimaryDocument, VatCategory
from portal.billing.receivables import Bucket
from portal.billing.settlements import primary_document
from portal.billing.statements import organisation_contracts
from portal.errors import UserError
from portal.extensions import db
from portal.jobs import background
from portal.money import format_rub
from portal.organisations.models import Organisation, OrganisationKind
from portal.reports import xlsx
from portal.security import access, can_manage_organisation, require_manage_organisation
from portal.validators import NumberError, parse_whole


def _staff_organisation_page():
    # The staff page of a gas customer is metering's; a refused money form is shown on it.
    page = lookups.gas_staff_page()
    return page.contract_choices, page.organisation_or_404, page.render


@bp.route("/backoffice/billing/organisations/<int:organisation_id>/payments", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def staff_enter_payment(organisation_id):
    contract_choices, gas_organisation_or_404, render_staff_organisation = (
        _staff_organisation_page()
    )
    organisation = gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    form = PaymentForm()
    form.contract_id.choices = contract_choices(organisation)
    if form.validate_on_submit():
        try:
            payments.enter_payment(
                organisation,
                form.amount.data,
                form.entry_date.data,
                form.document_number.data,
                current_user,
                contract_id=form.contract_id.data,
                purpose=form.purpose.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="amount")
        else:
            flash(_("The payment has been recorded."), "success")
            return redirect(url_for("metering_staff.organisation", organisation_id=organisation.id))
    return render_staff_organisation(organisation, payment_form=form), 422


@bp.route("/backoffice/billing/organisations/<int:organisation_id>/adjustments", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def staff_enter_adjustment(organisation_id):
    contract_choices, gas_organisation_or_404, render_staff_organisation = (
        _staff_organisation_page()
    )
    organisation = gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    form = AdjustmentForm()
    form.contract_id.choices = contract_choices(organisation)
    if form.validate_on_submit():
        try:
            payments.enter_adjustment(
                organisation,
                form.amount.data,
                form.entry_date.data,
                form.reason.data,
                current_user,
                contract_id=form.contract_id.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="amount")
        else:
            flash(_("The adjustment has been recorded."), "success")
            return redirect(url_for("metering_staff.organisation", organisation_id=organisation.id))
    return render_staff_organisation(organisation, adjustment_form=form), 422


@bp.route("/backoffice/billing/payments", methods=["GET", "POST"])
@access.staff()
def staff_payments():
    form = BankStatementForm()
    report = None
    if form.validate_on_submit():
        # A queue job any worker takes; the person is sent to its page (a refusal already
        # known, when the job ran in the process or a worker was quick, is shown here).
        try:
            job = background.start(
                queue.BANK_IMPORT_TASK,
                current_user,
                data=form.file.data.read(),
                filename=form.file.data.filename or "",
                params={"back": url_for("billing.staff_payments")},
            )
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            refusal = background.refused_at_once(job)
            if refusal is None:
                if job.status == "done":
                    flash(_("Payments imported: %(count)s.", count=job.result["count"]), "success")
                return redirect(url_for("jobs.show_job", job_id=job.id))
            transactions.refuse()
            report = [SimpleNamespace(**line) for line in refusal.report.get("lines", [])]
            form.file.errors = [*form.file.errors, refusal.message]
    balances = dict(
        db.session.execute(
            select(
                LedgerEntry.organisation_id,
                func.sum(LedgerEntry.debit - LedgerEntry.credit),
            ).group_by(LedgerEntry.organisation_id)
        ).all()
    )
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.GAS)
        .order_by(Organisation.legal_name)
    ).all()
    return errors.form_page(
        "billing/staff_payments.html",
        form=form,
        report=report,
        organisations=organisations,
        balances=balances,
    )


@bp.route("/backoffice/billing/vat-rates", methods=["GET", "POST"])
@access.staff(StaffRole.ADMIN)
def vat_rates():
    """Administrators add a dated VAT rate; issued documents keep the rate they carry."""
    form = VatRateForm()
    form.category.choices = [(category.value, category.label) for category in VatCategory]
    if form.validate_on_submit():
        try:
            tax.add_rate(
                form.category.data,
                form.rate.data,
                form.valid_from.data,
                current_user,
                valid_to=form.valid_to.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="rate")
        else:
            flash(_("The VAT rate has been added."), "success")
            return redirect(url_for("billing.vat_rates"))
    return errors.form_page(
        "billing/vat_rates.html", form=form, rates=tax.all_rates(), categories=VatCategory
    )


# --- primary documents ------------------------------------------------------------------


@bp.route("/backoffice/billing/documents/<int:document_id>/document.xml")
@access.staff()
def staff_document_xml(document_id):
    document = db.get_or_404(PrimaryDocument, document_id)
    return xml_response(document, request.referrer or url_for("dashboard.index"))


@bp.route("/backoffice/billing/documents/<int:document_id>/upd.pdf")
@access.staff()
def staff_upd_pdf(document_id):
    document = db.get_or_404(PrimaryDocument, document_id)
    if document.kind != DocumentKind.UPD:
        abort(404)
    return pdf_response(document)


@bp.route("/backoffice/billing/documents/<int:document_id>/ukd.pdf")
@access.staff()
def staff_ukd_pdf(document_id):
    document = db.get_or_404(PrimaryDocument, document_id)
    if document.kind != DocumentKind.UKD:
        abort(404)
    return pdf_response(document)


@bp.route("/backoffice/orders/<int:order_id>/correct-shipment", methods=["POST"])
@access.curator("Order", "order_id")  # the orders model by name: billing sits below
def staff_correct_shipment(order_id):
    """A manager corrects shipped quantities after the УПД: a УКД and a ledger correction."""
    order = lookups.orders().get(order_id)
    if order is None:
        abort(404)
    require_manage_organisation(order.organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    quantities = {}
    for line in order.lines:
        raw = (request.form.get(f"corrected-{line.id}") or "").strip()
        if raw == "":
            continue
        try:
            quantities[line.id] = parse_whole(raw)
        except NumberError:
            quantities[line.id] = None  # refused by correct_shipment with its message
    try:
        document = ukd.correct_shipment(order, quantities, current_user)
    except UserError as error:
        errors.show(error)
        return redirect(url_for("orders.staff_order", order_id=order_id))
    flash(
        _(
            "УКД № %(number)s is issued; the difference %(amount)s is posted to the account.",
            number=document.printed_number,
            amount=format_rub(primary.snapshot_of(document)["totals"]["difference"]["total"]),
        ),
        "success",
    )
    return redirect(url_for("orders.staff_order", order_id=order_id))


# --- one payment's allocation ------------------------------------------------------------


def _payment_or_404(entry_id):
    payment = db.session.get(LedgerEntry, entry_id)
    if payment is None or payment.kind != EntryKind.PAYMENT:
        abort(404)
    require_manage_organisation(payment.organisation)
    return payment


@bp.route("/backoffice/billing/payments/<int:entry_id>", methods=["GET", "POST"])
@access.curator(LedgerEntry, "entry_id")
def staff_allocate_payment(entry_id):
    payment = _payment_or_404(entry_id)
    form = AllocationForm()
    if form.validate_on_submit():
        shares = {
            key.removeprefix("share-"): value.strip()
            for key, value in request.form.items()
            if key.startswith("share-")
        }
        try:
            with db.session.begin_nested():  # refused: the page shows the allocation as it is
                allocation.reallocate(payment, shares, current_user)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            flash(_("The allocation has been saved."), "success")
            return redirect(url_for("billing.staff_allocate_payment", entry_id=payment.id))
    current = {a.charge_entry_id: a.amount for a in allocation.allocations_of(payment)}
    candidates = allocation.open_charges(payment.organisation_id, exclude_payment=payment.id)
    shown = {entry.id for entry, _ in candidates}
    allocated = [db.session.get(LedgerEntry, charge_id) for charge_id in current]
    rows = [(entry, amount) for entry, amount in candidates]
    rows += [
        (entry, allocation.open_amount(entry) + current[entry.id])
        for entry in allocated
        if entry.id not in shown
    ]
    rows.sort(key=lambda item: (item[0].entry_date, item[0].id))
    return errors.form_page(
        "billing/staff_allocation.html",
        payment=payment,
        document=primary_document(payment),
        form=form,
        rows=rows,
        current=current,
        describe=primary_document,
        manual=allocation.has_manual_allocation(payment.id),
        contracts=dict(organisation_contracts(payment.organisation_id)),
        unallocated=payment.credit - sum(current.values()),
    )


# --- receivables ------------------------------------------------------------------------


@bp.route("/backoffice/billing/receivables")
@access.staff()
def receivables_report():
    report = receivables.aging_report(current_user)
    return render_template("billing/receivables.html", report=report, buckets=list(Bucket))


@bp.route("/backoffice/billing/receivables.xlsx")
@access.staff()
def receivables_xlsx():
    report = receivables.aging_report(current_user)
    response = send_file(
        io.BytesIO(aging_workbook(report)),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=f"receivables-{report.day:%Y%m%d}.xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def aging_workbook(report) -> bytes:
    """One row per organisation and a totals row; amounts are numbers, the header frozen."""
    workbook, sheet = xlsx.new_write_only(
        _("Receivables"), column_widths=(44, 14, 16, 16, 16, 16, 16, 16, 18, 18, 18)
    )
    sheet.worksheet.freeze_panes = "C2"  # the header row and the names stay in view
    c = xlsx.cell
    header = [_("Organisation"), _("INN")]
    header += [str(bucket.label) for bucket in Bucket]
    header += [_("Unallocated credit"), _("Balance"), _("Credit hold from")]
    sheet.append([c(sheet, title, bold=True, wrap=True) for title in header])
    for row in report.rows:
        organisation = row.organisation
        sheet.append(
            [organisation.legal_name, organisation.inn]
            + [c(sheet, row.buckets[bucket]) for bucket in Bucket]
            + [
                c(sheet, -row.unallocated),
                c(sheet, row.balance),
                c(sheet, row.hold.threshold) if row.hold else None,
            ]
        )
    totals = report.totals
    sheet.append(
        [c(sheet, _("Total"), bold=True), None]
        + [c(sheet, totals.buckets[bucket], bold=True) for bucket in Bucket]
        + [c(sheet, -totals.unallocated, bold=True), c(sheet, totals.balance, bold=True)]
    )
    sheet.append([])
    sheet.append(
        [
            _(
                "As of %(date)s. Unallocated credit: payments and credit adjustments no "
                "document has taken; balance = the buckets minus it.",
                date=f"{report.day:%d.%m.%Y}",
            )
        ]
    )
    return xlsx.to_bytes(workbook)


def _organisation_page(organisation, *, hold_form=None, clear_form=None, status=200):
    bucket = None
    if request.args.get("bucket"):
        bucket = receivables.parse_bucket(request.args.get("bucket"))
        if bucket is None:
            abort(404)
    documents = receivables.open_documents(organisation.id)
    shown = [d for d in documents if bucket is None or d.bucket == bucket]
    hold = receivables.hold_of(organisation.id)
    form = hold_form or CreditHoldForm(threshold=f"{hold.threshold:.2f}" if hold else "0.00")
    return (
        render_template(
            "billing/receivables_organisation.html",
            organisation=organisation,
            row=receivables.aging_row(organisation),
            documents=shown,
            bucket=bucket,
            buckets=list(Bucket),
            hold=hold,
            overdue=receivables.overdue_debt(organisation.id),
            hold_form=form,
            clear_form=clear_form or ClearCreditHoldForm(),
            can_manage=can_manage_organisation(current_user, organisation),
        ),
        status,
    )


@bp.route("/backoffice/billing/receivables/<int:organisation_id>")
@access.staff()
def receivables_organisation(organisation_id):
    organisation = receivables.visible_organisation_or_404(current_user, organisation_id)
    return _organisation_page(organisation)


@bp.route("/backoffice/billing/receivables/<int:organisation_id>/hold", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def set_credit_hold(organisation_id):
    organisation = receivables.visible_organisation_or_404(current_user, organisation_id)
    form = CreditHoldForm()
    if form.validate_on_submit():
        try:
            receivables.set_hold(organisation, form.threshold.data, form.reason.data, current_user)
        except UserError as error:
            errors.show(error, form, default_field="threshold")
        else:
            flash(_("The organisation is on credit hold."), "success")
            return redirect(
                url_for("billing.receivables_organisation", organisation_id=organisation.id)
            )
    return _organisation_page(organisation, hold_form=form, status=422)


@bp.route("/backoffice/billing/receivables/<int:organisation_id>/hold/clear", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def clear_credit_hold(organisation_id):
    organisation = receivables.visible_organisation_or_404(current_user, organisation_id)
    form = ClearCreditHoldForm()
    if form.validate_on_submit():
        try:
            receivables.clear_hold(organisation, form.clear_reason.data, current_user)
        except UserError as error:  # a reason refused goes next to the form's reason field
            errors.show(UserError(error.message, "clear_reason") if error.field else error, form)
        else:
            flash(_("The credit hold is lifted."), "success")
            return redirect(
                url_for("billing.receivables_organisation", organisation_id=organisation.id)
            )
    return _organisation_page(organisation, clear_form=form, status=422)


# The statement, account and allocation pages share the blueprint.
from portal.billing import (  # noqa: E402, F401
    account_views,
    document_views,
    statement_views,
)
