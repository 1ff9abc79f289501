"""Staff pages under /backoffice/metering/: the review of late, early and rolled-over readings,
corrections with a reason, a gas customer's page, its contracts, tariffs and meters."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import clock, errors
from portal.accounts.forms import ConfirmForm
from portal.billing import payments as billing_payments
from portal.billing.forms import AdjustmentForm, PaymentForm
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import plain_number
from portal.metering import corrections, pages, readings, registry, staff_bp
from portal.metering.forms import (
    EditContractForm,
    MeterForm,
    NewContractForm,
    NewMeterForm,
    TariffForm,
)
from portal.metering.models import Contract, MeteringPoint, Reading
from portal.organisations.models import Organisation, OrganisationKind
from portal.security import access, can_manage_organisation, require_manage_organisation


@staff_bp.route("/review")
@access.staff()
def review():
    return render_template(
        "metering/staff_review.html",
        readings=corrections.readings_to_review(),
        confirm=ConfirmForm(),
    )


@staff_bp.route("/readings/<int:reading_id>/reviewed", methods=["POST"])
@access.curator(Reading, "reading_id")
def mark_reviewed(reading_id):
    reading = db.get_or_404(Reading, reading_id)
    if ConfirmForm().validate_on_submit():
        corrections.mark_reviewed(reading, current_user)
        flash(_("The reading is marked as reviewed."), "success")
    return redirect(url_for("metering_staff.review"))


@staff_bp.route("/readings/<int:reading_id>/correct", methods=["GET", "POST"])
@access.curator(Reading, "reading_id")
def correct_reading(reading_id):
    return pages.correction_page(db.get_or_404(Reading, reading_id), staff=True)


@staff_bp.route("/readings/<int:reading_id>/photo")
@access.staff()
def reading_photo(reading_id):
    return pages.send_photo(db.get_or_404(Reading, reading_id))


@staff_bp.route("/meters/<int:meter_id>")
@access.staff()
def meter_history(meter_id):
    return pages.render_meter_history(db.get_or_404(MeteringPoint, meter_id), staff=True)


def contract_choices(organisation):
    contracts = registry.organisation_contracts(organisation.id)
    return [(0, _("Not specified"))] + [(c.id, c.number) for c in contracts]


def render_organisation(organisation, payment_form=None, adjustment_form=None):
    """The staff page of a gas customer; billing re-renders it with its refused money forms."""
    today = clock.local_today()
    payment_form = payment_form or PaymentForm(formdata=None, entry_date=today)
    adjustment_form = adjustment_form or AdjustmentForm(formdata=None, entry_date=today)
    payment_form.contract_id.choices = adjustment_form.contract_id.choices = contract_choices(
        organisation
    )
    operations, balance = billing_payments.account_operations(organisation.id)
    contracts = registry.organisation_contracts(organisation.id, with_tariffs=True)
    inactive_meters = db.session.scalars(
        select(MeteringPoint)
        .where(MeteringPoint.organisation_id == organisation.id, MeteringPoint.is_active.is_(False))
        .order_by(MeteringPoint.serial_number)
    ).all()
    return render_template(
        "metering/staff_organisation.html",
        organisation=organisation,
        can_manage=can_manage_organisation(current_user, organisation),
        contracts=contracts,
        inactive_meters=inactive_meters,
        confirm=ConfirmForm(),
        rows=readings.readings_form_rows(organisation.id, today),
        operations=operations,
        balance=balance,
        payment_form=payment_form,
        adjustment_form=adjustment_form,
    )


def gas_organisation_or_404(organisation_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    if organisation.kind != OrganisationKind.GAS:
        abort(404)
    return organisation


@staff_bp.route("/organisations/<int:organisation_id>")
@access.staff()
def organisation(organisation_id):
    return render_organisation(gas_organisation_or_404(organisation_id))


# --- contracts, tariffs and metering points -------------------------------------------------


def _managed_gas_organisation(organisation_id):
    organisation = gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    return organisation


def _back_to_organisation(organisation_id):
    return redirect(url_for("metering_staff.organisation", organisation_id=organisation_id))


@staff_bp.route("/organisations/<int:organisation_id>/contracts/new", methods=["GET", "POST"])
@access.curator(Organisation, "organisation_id")
def new_contract(organisation_id):
    organisation = _managed_gas_organisation(organisation_id)
    form = NewContractForm()
    if request.method == "GET":
        form.start_date.data = clock.local_today()
    if form.validate_on_submit():
        try:
            registry.create_contract(
                organisation,
                form.number.data,
                form.start_date.data,
                form.end_date.data,
                form.price_per_thousand.data,
                vat_category=form.vat_category.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="number")
        else:
            flash(_("The contract has been created."), "success")
            return _back_to_organisation(organisation.id)
    return errors.form_page(
        "metering/staff_contract.html", form=form, organisation=organisation, contract=None
    )


def _render_contract(contract, form=None, tariff_form=None):
    if form is None:
        form = EditContractForm(formdata=None, obj=contract)
    return errors.form_page(
        "metering/staff_contract.html",
        form=form,
        tariff_form=tariff_form or TariffForm(formdata=None),
        organisation=db.session.get(Organisation, contract.organisation_id),
        contract=contract,
        charged=registry.last_charged_period(contract.id),
    )


def _managed_contract(contract_id):
    contract = db.get_or_404(Contract, contract_id)
    _managed_gas_organisation(contract.organisation_id)
    return contract


@staff_bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@access.curator(Contract, "contract_id")
def edit_contract(contract_id):
    contract = _managed_contract(contract_id)
    if request.method == "GET":
        return _render_contract(contract)
    form = EditContractForm()
    if form.validate_on_submit():
        try:
            registry.update_contract(
                contract,
                form.number.data,
                form.start_date.data,
                form.end_date.data,
                gas_act_required=form.gas_act_required.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="number")
        else:
            flash(_("The contract has been saved."), "success")
            return redirect(url_for("metering_staff.edit_contract", contract_id=contract.id))
    return _render_contract(contract, form=form)


@staff_bp.route("/contracts/<int:contract_id>/tariffs", methods=["POST"])
@access.curator(Contract, "contract_id")
def add_tariff(contract_id):
    contract = _managed_contract(contract_id)
    form = TariffForm()
    if form.validate_on_submit():
        try:
            registry.add_tariff(
                contract,
                form.valid_from.data,
                form.price_per_thousand.data,
                vat_category=form.vat_category.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="price_per_thousand")
        else:
            flash(_("The tariff has been added."), "success")
            return redirect(url_for("metering_staff.edit_contract", contract_id=contract.id))
    page, _status = _render_contract(contract, tariff_form=form)
    return page, 422  # the tariff form refused: whatever it flushed is rolled back


def _meter_fields(form):
    return registry.MeterFields(
        contract_id=form.contract_id.data,
        serial_number=form.serial_number.data,
        model=form.model.data,
        digits=form.digits.data,
        max_flow=form.max_flow.data,
        verification_due=form.verification_due.data,
        address=form.address.data,
    )


def _meter_contract_choices(organisation):
    return [(choice, label) for choice, label in contract_choices(organisation) if choice != 0]


@staff_bp.route("/organisations/<int:organisation_id>/meters/new", methods=["GET", "POST"])
@access.curator(Organisation, "organisation_id")
def new_meter(organisation_id):
    organisation = _managed_gas_organisation(organisation_id)
    form = NewMeterForm()
    form.contract_id.choices = _meter_contract_choices(organisation)
    if request.method == "GET":
        form.initial_date.data = clock.local_today()
        form.digits.data = "8"
    if form.validate_on_submit():
        try:
            registry.create_meter(
                organisation,
                _meter_fields(form),
                form.initial_value.data,
                form.initial_date.data,
                current_user,
            )
        except UserError as error:
            errors.show(error, form, default_field="serial_number")
        else:
            flash(_("The meter has been added."), "success")
            return _back_to_organisation(organisation.id)
    return errors.form_page(
        "metering/staff_meter.html", form=form, organisation=organisation, meter=None
    )


def _managed_meter(meter_id):
    meter = db.get_or_404(MeteringPoint, meter_id)
    return meter, _managed_gas_organisation(meter.organisation_id)


@staff_bp.route("/meters/<int:meter_id>/edit", methods=["GET", "POST"])
@access.curator(MeteringPoint, "meter_id")
def edit_meter(meter_id):
    meter, organisation = _managed_meter(meter_id)
    form = MeterForm(obj=meter) if request.method == "GET" else MeterForm()
    form.contract_id.choices = _meter_contract_choices(organisation)
    if request.method == "GET":
        form.digits.data = str(meter.digits)
        form.max_flow.data = plain_number(meter.max_flow)
    if form.validate_on_submit():
        try:
            registry.update_meter(meter, _meter_fields(form))
        except UserError as error:
            errors.show(error, form, default_field="serial_number")
        else:
            flash(_("The meter has been saved."), "success")
            return _back_to_organisation(organisation.id)
    return errors.form_page(
        "metering/staff_meter.html",
        form=form,
        organisation=organisation,
        meter=meter,
        confirm=ConfirmForm(),
    )


@staff_bp.route("/meters/<int:meter_id>/deactivate", methods=["POST"])
@access.curator(MeteringPoint, "meter_id")
def deactivate_meter(meter_id):
    meter, organisation = _managed_meter(meter_id)
    if ConfirmForm().validate_on_submit():
        try:
            registry.deactivate_meter(meter)
        except UserError as error:
            errors.show(error, category="warning")
        else:
            flash(
                _(
                    "Meter %(serial)s is deactivated; its history is kept.",
                    serial=meter.serial_number,
                ),
                "success",
            )
    return _back_to_organisation(organisation.id)
