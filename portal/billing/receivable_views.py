"""Receivables for staff: the aging report, its XLSX, an organisation's open documents and its
credit hold. A manager sees the organisations assigned to them, an admin all; another
organisation's page is a 404."""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.billing import bp, receivables
from portal.billing.errors import BillingError
from portal.billing.forms import ClearCreditHoldForm, CreditHoldForm
from portal.billing.receivables import Bucket
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.reports import xlsx
from portal.security import access, can_manage_organisation

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        except BillingError as error:
            db.session.rollback()
            getattr(form, error.field_name or "threshold").errors.append(str(error.message))
        else:
            db.session.commit()
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
        except BillingError as error:
            db.session.rollback()
            if error.field_name:
                form.clear_reason.errors.append(str(error.message))
            else:
                flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The credit hold is lifted."), "success")
            return redirect(
                url_for("billing.receivables_organisation", organisation_id=organisation.id)
            )
    return _organisation_page(organisation, clear_form=form, status=422)
