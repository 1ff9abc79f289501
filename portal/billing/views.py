"""Billing pages: the gas customer's settlement account, payments and adjustments staff enter,
the bank statement import. URLs stay where they were before billing became one room."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.models import StaffRole
from portal.billing import bank_import, bp, payments, tax
from portal.billing.errors import BillingError, StatementRejected
from portal.billing.forms import AdjustmentForm, BankStatementForm, PaymentForm, VatRateForm
from portal.billing.models import LedgerEntry, VatCategory
from portal.extensions import db
from portal.organisations.models import Organisation, OrganisationKind
from portal.security import access, require_manage_organisation


def _staff_organisation_page():
    # The staff page of a gas customer is metering's; a refused money form is shown on it.
    from portal.metering.staff_views import contract_choices, gas_organisation_or_404
    from portal.metering.staff_views import render_organisation as render_staff_organisation

    return contract_choices, gas_organisation_or_404, render_staff_organisation


@bp.route("/metering/staff/organisations/<int:organisation_id>/payments", methods=["POST"])
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
        except BillingError as error:
            db.session.rollback()
            getattr(form, error.field_name or "amount").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The payment has been recorded."), "success")
            return redirect(url_for("metering_staff.organisation", organisation_id=organisation.id))
    return render_staff_organisation(organisation, payment_form=form), 400


@bp.route("/metering/staff/organisations/<int:organisation_id>/adjustments", methods=["POST"])
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
        except BillingError as error:
            db.session.rollback()
            getattr(form, error.field_name or "amount").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The adjustment has been recorded."), "success")
            return redirect(url_for("metering_staff.organisation", organisation_id=organisation.id))
    return render_staff_organisation(organisation, adjustment_form=form), 400


@bp.route("/metering/staff/payments", methods=["GET", "POST"])
@access.staff()
def staff_payments():
    form = BankStatementForm()
    report = None
    if form.validate_on_submit():
        try:
            report = bank_import.import_bank_statement(form.file.data.read(), current_user)
        except StatementRejected as rejection:
            db.session.rollback()
            report = rejection.report
            form.file.errors.append(str(rejection.message))
        except BillingError as error:
            db.session.rollback()
            form.file.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Payments imported: %(count)s.", count=len(report)), "success")
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
    return render_template(
        "billing/staff_payments.html",
        form=form,
        report=report,
        organisations=organisations,
        balances=balances,
    )


@bp.route("/billing/vat-rates", methods=["GET", "POST"])
@access.staff(StaffRole.ADMIN)
def vat_rates():
    """Administrators add a dated VAT rate; issued documents keep the rate they carry."""
    form = VatRateForm()
    form.category.choices = [(category.value, category.label) for category in VatCategory]
    status = 200
    if form.validate_on_submit():
        try:
            tax.add_rate(
                form.category.data,
                form.rate.data,
                form.valid_from.data,
                current_user,
                valid_to=form.valid_to.data,
            )
        except BillingError as error:
            db.session.rollback()
            target = getattr(form, error.field_name or "rate", form.rate)
            target.errors = [*target.errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("The VAT rate has been added."), "success")
            return redirect(url_for("billing.vat_rates"))
    if form.errors:
        status = 422
    return render_template(
        "billing/vat_rates.html", form=form, rates=tax.all_rates(), categories=VatCategory
    ), status


# The statement, account and allocation pages share the blueprint.
from portal.billing import (  # noqa: E402, F401
    account_views,
    document_views,
    receivable_views,
    statement_views,
)
