import io
from datetime import date
from functools import partial

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.forms import ConfirmForm
from portal.billing import payments as billing_payments
from portal.billing.forms import AdjustmentForm, PaymentForm
from portal.extensions import db
from portal.files import store as file_store
from portal.formatting import plain_number
from portal.metering import bp, services, telemetry, workbook
from portal.metering.forms import (
    CorrectionForm,
    EditContractForm,
    MeterForm,
    NewContractForm,
    NewMeterForm,
    ReadingsForm,
    TariffForm,
    UploadForm,
)
from portal.metering.models import Contract, MeteringPoint, Reading, ReadingSource
from portal.organisations.models import Organisation, OrganisationKind, Power
from portal.request_guard import int_arg
from portal.security import (
    access,
    can_manage_organisation,
    current_organisation,
    get_scoped_or_404,
    require_manage_organisation,
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month_names():
    return [format_date(date(2000, month, 1), "LLL") for month in range(1, 13)]


# --- customer: entering readings -------------------------------------------------------------


def _inputs_from_request():
    """One input per posted `value-<meter id>` field: the form state need not be rebuilt.

    Meter ids come from the client, so submit_readings checks each belongs to the organisation.
    """
    inputs = []
    for name in request.form:
        prefix, _sep, raw_id = name.partition("-")
        if prefix != "value" or not raw_id.isdigit():
            continue
        meter_id = int(raw_id)
        inputs.append(
            services.ReadingInput(
                meter_id=meter_id,
                raw_value=request.form.get(name, ""),
                confirm_rollover=request.form.get(f"rollover-{meter_id}") == "y",
                photo=request.files.get(f"photo-{meter_id}"),
                label=str(meter_id),
            )
        )
    return inputs


@bp.route("/readings", methods=["GET", "POST"])
@access.power(Power.SUBMIT_READINGS)
def submit_readings():
    organisation = current_organisation()
    today = services.local_today()
    window = services.submission_window(today)
    form = ReadingsForm()
    if request.method == "GET":
        form.reading_date.data = today
    errors = {}
    if form.validate_on_submit():
        try:
            result = services.submit_readings(
                organisation.id,
                current_user,
                form.reading_date.data,
                _inputs_from_request(),
                today=today,
            )
        except services.ReadingsRejected as rejection:
            db.session.rollback()
            errors = rejection.errors
            flash(str(rejection.message), "danger")
        except services.MeteringError as error:
            db.session.rollback()
            if error.field_name == "reading_date":
                form.reading_date.errors.append(str(error.message))
            else:
                flash(str(error.message), "danger")
        else:
            messages = _result_messages(result)
            db.session.commit()
            _flash_all(messages)
            return redirect(url_for("metering.submit_readings"))
    # Only a GET or a refused submission renders the whole table.
    rows = services.readings_form_rows(organisation.id, today)
    shown = {row.meter.id for row in rows}
    for meter_id, message in errors.items():
        if meter_id not in shown:
            flash(message, "danger")
    return render_template(
        "metering/readings_form.html",
        form=form,
        grouped=services.group_by_contract(rows),
        window=window,
        errors=errors,
        values=request.form,
    )


def _result_messages(result):
    """The messages about a saved submission, taken before the commit.

    The commit expires every loaded object: reading `is_late`, `warning` and the meter's serial
    number afterwards would reload each reading and meter, one SELECT each.
    """
    messages = [(_("Readings saved: %(count)s.", count=len(result.readings)), "success")]
    if any(reading.is_late for reading in result.readings):
        messages.append(
            (_("The submission window has closed: the readings are marked as late."), "warning")
        )
    if any(reading.is_early for reading in result.readings):
        messages.append(
            (
                _(
                    "The submission window has not opened yet: the readings are saved and "
                    "marked as early."
                ),
                "warning",
            )
        )
    for reading in result.readings:
        if reading.warning:
            messages.append(
                (f"{reading.metering_point.serial_number}: {reading.warning}", "warning")
            )
    return messages


def _flash_all(messages):
    for message, category in messages:
        flash(message, category)


@bp.route("/readings/<int:reading_id>/correct", methods=["GET", "POST"])
@access.power(Power.SUBMIT_READINGS)
def correct_reading(reading_id):
    reading = get_scoped_or_404(Reading, reading_id)
    allowed = services.customer_may_correct(reading)
    form = CorrectionForm()
    if request.method == "GET":
        form.value.data = plain_number(reading.value)
    if allowed and form.validate_on_submit():
        try:
            services.correct_reading(
                reading,
                form.value.data,
                current_user,
                confirm_rollover=form.confirm_rollover.data,
            )
        except services.MeteringError as error:
            db.session.rollback()
            getattr(form, error.field_name or "value").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The reading has been corrected."), "success")
            return redirect(url_for("metering.meter_history", meter_id=reading.metering_point_id))
    return render_template(
        "metering/correct.html", form=form, reading=reading, allowed=allowed, staff=False
    )


@bp.route("/readings/<int:reading_id>/photo")
@access.power(Power.SUBMIT_READINGS)
def reading_photo(reading_id):
    return _send_photo(get_scoped_or_404(Reading, reading_id))


def _send_photo(reading):
    key = services.photo_key(reading.photo_name)
    if key is None:
        abort(404)
    mimetype = "image/png" if key.endswith(".png") else "image/jpeg"
    return file_store.send(
        file_store.files(),
        key,
        download_name=key.rsplit("/", 1)[-1],
        content_type=mimetype,
        as_attachment=False,
    )


@bp.route("/readings/template.xlsx")
@access.power(Power.SUBMIT_READINGS)
def download_template():
    organisation = current_organisation()
    rows = services.readings_form_rows(organisation.id)
    content = workbook.build_template(rows, current_user.language)
    return send_file(
        io.BytesIO(content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"readings-{services.local_today():%Y-%m}.xlsx",
    )


@bp.route("/readings/upload", methods=["GET", "POST"])
@access.power(Power.SUBMIT_READINGS)
def upload_readings():
    organisation = current_organisation()
    today = services.local_today()
    form = UploadForm()
    if request.method == "GET":
        form.reading_date.data = today
    line_errors = []
    if form.validate_on_submit():
        try:
            inputs = workbook.parse_upload(form.file.data, organisation.id)
            labels = {line.meter_id: line.label for line in inputs}
            result = services.submit_readings(
                organisation.id,
                current_user,
                form.reading_date.data,
                inputs,
                source=ReadingSource.FILE,
                today=today,
            )
        except services.ReadingsRejected as rejection:
            db.session.rollback()
            line_errors = [(labels.get(k, k), message) for k, message in rejection.errors.items()]
            form.file.errors.append(str(rejection.message))
        except services.MeteringError as error:
            db.session.rollback()
            target = form.reading_date if error.field_name == "reading_date" else form.file
            target.errors.append(str(error.message))
        else:
            messages = _result_messages(result)
            db.session.commit()
            _flash_all(messages)
            return redirect(url_for("metering.submit_readings"))
    return render_template("metering/upload.html", form=form, line_errors=line_errors)


# --- customer: meters, history, account -------------------------------------------------------


@bp.route("/meters")
@access.power(Power.SUBMIT_READINGS)
def list_meters():
    organisation = current_organisation()
    rows = services.readings_form_rows(organisation.id)
    contracts = db.session.scalars(
        select(Contract)
        .where(Contract.organisation_id == organisation.id)
        .order_by(Contract.number)
    ).all()
    return render_template(
        "metering/meters.html", grouped=services.group_by_contract(rows), contracts=contracts
    )


def _history_context(readings_by_period, year):
    return services.consumption_chart(readings_by_period, year, _month_names())


@bp.route("/meters/<int:meter_id>")
@access.power(Power.SUBMIT_READINGS)
def meter_history(meter_id):
    meter = get_scoped_or_404(MeteringPoint, meter_id)
    return _render_meter_history(meter, staff=False)


def _render_meter_history(meter, *, staff):
    readings = services.meter_history(meter.id)
    # The chart shows `year` and the year before: both must be dates Python can hold.
    year = int_arg("year", minimum=2, maximum=9999) or services.local_today().year
    by_period = {r.period: r.consumption for r in readings if r.consumption is not None}
    return render_template(
        "metering/meter_history.html",
        meter=meter,
        readings=readings,
        chart=_history_context(by_period, year),
        telemetry=telemetry.daily_totals(meter.id),
        staff=staff,
        # "today" once per page, not once per row (a time zone conversion each).
        may_correct=partial(services.customer_may_correct, today=services.local_today()),
    )


@bp.route("/contracts/<int:contract_id>")
@access.power(Power.SUBMIT_READINGS)
def contract_history(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    periods = services.contract_consumption(contract.id)
    # The chart shows `year` and the year before: both must be dates Python can hold.
    year = int_arg("year", minimum=2, maximum=9999) or services.local_today().year
    chart = _history_context({p: total for p, total, _count in periods}, year)
    return render_template(
        "metering/contract_history.html", contract=contract, periods=periods, chart=chart
    )


# --- staff ----------------------------------------------------------------------------------


@bp.route("/staff/review")
@access.staff()
def staff_review():
    return render_template(
        "metering/staff_review.html",
        readings=services.readings_to_review(),
        confirm=ConfirmForm(),
    )


def _staff_reading(reading_id):
    reading = db.get_or_404(Reading, reading_id)
    return reading


@bp.route("/staff/readings/<int:reading_id>/reviewed", methods=["POST"])
@access.curator(Reading, "reading_id")
def staff_mark_reviewed(reading_id):
    reading = _staff_reading(reading_id)
    if ConfirmForm().validate_on_submit():
        services.mark_reviewed(reading, current_user)
        db.session.commit()
        flash(_("The reading is marked as reviewed."), "success")
    return redirect(url_for("metering.staff_review"))


@bp.route("/staff/readings/<int:reading_id>/correct", methods=["GET", "POST"])
@access.curator(Reading, "reading_id")
def staff_correct_reading(reading_id):
    reading = _staff_reading(reading_id)
    form = CorrectionForm()
    if request.method == "GET":
        form.value.data = plain_number(reading.value)
    if form.validate_on_submit():
        try:
            services.correct_reading(
                reading,
                form.value.data,
                current_user,
                reason=form.reason.data,
                by_staff=True,
                confirm_rollover=form.confirm_rollover.data,
            )
        except services.MeteringError as error:
            db.session.rollback()
            getattr(form, error.field_name or "value").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The reading has been corrected."), "success")
            return redirect(
                url_for("metering.staff_meter_history", meter_id=reading.metering_point_id)
            )
    return render_template(
        "metering/correct.html", form=form, reading=reading, allowed=True, staff=True
    )


@bp.route("/staff/readings/<int:reading_id>/photo")
@access.staff()
def staff_reading_photo(reading_id):
    return _send_photo(_staff_reading(reading_id))


@bp.route("/staff/meters/<int:meter_id>")
@access.staff()
def staff_meter_history(meter_id):
    return _render_meter_history(db.get_or_404(MeteringPoint, meter_id), staff=True)


def contract_choices(organisation):
    contracts = db.session.scalars(
        select(Contract)
        .where(Contract.organisation_id == organisation.id)
        .order_by(Contract.number)
    )
    return [(0, _("Not specified"))] + [(c.id, c.number) for c in contracts]


def render_staff_organisation(organisation, payment_form=None, adjustment_form=None):
    """The staff page of a gas customer; billing re-renders it with its refused money forms."""
    today = services.local_today()
    payment_form = payment_form or PaymentForm(formdata=None, entry_date=today)
    adjustment_form = adjustment_form or AdjustmentForm(formdata=None, entry_date=today)
    payment_form.contract_id.choices = adjustment_form.contract_id.choices = contract_choices(
        organisation
    )
    operations, balance = billing_payments.account_operations(organisation.id)
    contracts = db.session.scalars(
        select(Contract)
        .where(Contract.organisation_id == organisation.id)
        .options(selectinload(Contract.tariffs))
        .order_by(Contract.number)
    ).all()
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
        rows=services.readings_form_rows(organisation.id, today),
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


@bp.route("/staff/organisations/<int:organisation_id>")
@access.staff()
def staff_organisation(organisation_id):
    return render_staff_organisation(gas_organisation_or_404(organisation_id))


# --- staff: contracts, tariffs and metering points -------------------------------------------


def _managed_gas_organisation(organisation_id):
    organisation = gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    return organisation


def _field_error(form, error, default):
    """Show a domain error next to its field (or the default one) after undoing the change."""
    db.session.rollback()
    target = getattr(form, error.field_name or default, None) or getattr(form, default)
    target.errors = [*target.errors, str(error.message)]


def _back_to_organisation(organisation_id):
    return redirect(url_for("metering.staff_organisation", organisation_id=organisation_id))


@bp.route("/staff/organisations/<int:organisation_id>/contracts/new", methods=["GET", "POST"])
@access.curator(Organisation, "organisation_id")
def staff_new_contract(organisation_id):
    organisation = _managed_gas_organisation(organisation_id)
    form = NewContractForm()
    if request.method == "GET":
        form.start_date.data = services.local_today()
    if form.validate_on_submit():
        try:
            services.create_contract(
                organisation,
                form.number.data,
                form.start_date.data,
                form.end_date.data,
                form.price_per_thousand.data,
                vat_category=form.vat_category.data,
            )
        except services.MeteringError as error:
            _field_error(form, error, "number")
        else:
            db.session.commit()
            flash(_("The contract has been created."), "success")
            return _back_to_organisation(organisation.id)
    status = 400 if form.errors else 200
    return render_template(
        "metering/staff_contract.html", form=form, organisation=organisation, contract=None
    ), status


def _render_contract(contract, form=None, tariff_form=None, status=200):
    organisation = db.session.get(Organisation, contract.organisation_id)
    if form is None:
        form = EditContractForm(formdata=None, obj=contract)
    tariff_form = tariff_form or TariffForm(formdata=None)
    charged = services.last_charged_period(contract.id)
    return render_template(
        "metering/staff_contract.html",
        form=form,
        tariff_form=tariff_form,
        organisation=organisation,
        contract=contract,
        charged=charged,
    ), status


def _managed_contract(contract_id):
    contract = db.get_or_404(Contract, contract_id)
    _managed_gas_organisation(contract.organisation_id)
    return contract


@bp.route("/staff/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@access.curator(Contract, "contract_id")
def staff_edit_contract(contract_id):
    contract = _managed_contract(contract_id)
    if request.method == "GET":
        return _render_contract(contract)
    form = EditContractForm()
    if form.validate_on_submit():
        try:
            services.update_contract(
                contract,
                form.number.data,
                form.start_date.data,
                form.end_date.data,
                gas_act_required=form.gas_act_required.data,
            )
        except services.MeteringError as error:
            _field_error(form, error, "number")
        else:
            db.session.commit()
            flash(_("The contract has been saved."), "success")
            return redirect(url_for("metering.staff_edit_contract", contract_id=contract.id))
    return _render_contract(db.session.get(Contract, contract_id), form=form, status=400)


@bp.route("/staff/contracts/<int:contract_id>/tariffs", methods=["POST"])
@access.curator(Contract, "contract_id")
def staff_add_tariff(contract_id):
    contract = _managed_contract(contract_id)
    form = TariffForm()
    if form.validate_on_submit():
        try:
            services.add_tariff(
                contract,
                form.valid_from.data,
                form.price_per_thousand.data,
                vat_category=form.vat_category.data,
            )
        except services.MeteringError as error:
            _field_error(form, error, "price_per_thousand")
        else:
            db.session.commit()
            flash(_("The tariff has been added."), "success")
            return redirect(url_for("metering.staff_edit_contract", contract_id=contract.id))
    return _render_contract(db.session.get(Contract, contract_id), tariff_form=form, status=400)


def _meter_fields(form):
    return services.MeterFields(
        contract_id=form.contract_id.data,
        serial_number=form.serial_number.data,
        model=form.model.data,
        digits=form.digits.data,
        max_flow=form.max_flow.data,
        verification_due=form.verification_due.data,
        address=form.address.data,
    )


def _metercontract_choices(organisation):
    return [(choice, label) for choice, label in contract_choices(organisation) if choice != 0]


@bp.route("/staff/organisations/<int:organisation_id>/meters/new", methods=["GET", "POST"])
@access.curator(Organisation, "organisation_id")
def staff_new_meter(organisation_id):
    organisation = _managed_gas_organisation(organisation_id)
    form = NewMeterForm()
    form.contract_id.choices = _metercontract_choices(organisation)
    if request.method == "GET":
        form.initial_date.data = services.local_today()
        form.digits.data = "8"
    if form.validate_on_submit():
        try:
            services.create_meter(
                organisation,
                _meter_fields(form),
                form.initial_value.data,
                form.initial_date.data,
                current_user,
            )
        except services.MeteringError as error:
            _field_error(form, error, "serial_number")
        else:
            db.session.commit()
            flash(_("The meter has been added."), "success")
            return _back_to_organisation(organisation.id)
    status = 400 if form.errors else 200
    return render_template(
        "metering/staff_meter.html", form=form, organisation=organisation, meter=None
    ), status


def _managed_meter(meter_id):
    meter = db.get_or_404(MeteringPoint, meter_id)
    return meter, _managed_gas_organisation(meter.organisation_id)


@bp.route("/staff/meters/<int:meter_id>/edit", methods=["GET", "POST"])
@access.curator(MeteringPoint, "meter_id")
def staff_edit_meter(meter_id):
    meter, organisation = _managed_meter(meter_id)
    form = MeterForm(obj=meter) if request.method == "GET" else MeterForm()
    form.contract_id.choices = _metercontract_choices(organisation)
    if request.method == "GET":
        form.digits.data = str(meter.digits)
        form.max_flow.data = plain_number(meter.max_flow)
    if form.validate_on_submit():
        try:
            services.update_meter(meter, _meter_fields(form))
        except services.MeteringError as error:
            _field_error(form, error, "serial_number")
        else:
            db.session.commit()
            flash(_("The meter has been saved."), "success")
            return _back_to_organisation(organisation.id)
    status = 400 if form.errors else 200
    return render_template(
        "metering/staff_meter.html",
        form=form,
        organisation=organisation,
        meter=db.session.get(MeteringPoint, meter_id),
        confirm=ConfirmForm(),
    ), status


@bp.route("/staff/meters/<int:meter_id>/deactivate", methods=["POST"])
@access.curator(MeteringPoint, "meter_id")
def staff_deactivate_meter(meter_id):
    meter, organisation = _managed_meter(meter_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.deactivate_meter(meter)
        except services.MeteringError as error:
            db.session.rollback()
            flash(str(error.message), "warning")
        else:
            db.session.commit()
            flash(
                _(
                    "Meter %(serial)s is deactivated; its history is kept.",
                    serial=meter.serial_number,
                ),
                "success",
            )
    return _back_to_organisation(organisation.id)
