import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import ledger
from portal.accounts.forms import ConfirmForm
from portal.extensions import db
from portal.metering import bp, services, workbook
from portal.metering.forms import (
    AdjustmentForm,
    CorrectionForm,
    PaymentForm,
    ReadingsForm,
    StatementForm,
    UploadForm,
)
from portal.metering.models import Contract, MeteringPoint, Reading, ReadingSource
from portal.organisations.models import Organisation, OrganisationKind, Power
from portal.security import (
    access,
    current_organisation,
    get_scoped_or_404,
    require_manage_organisation,
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month_names():
    return [format_date(date(2000, month, 1), "LLL") for month in range(1, 13)]


# --- customer: entering readings -------------------------------------------------------------


def _inputs_from_request(rows):
    inputs = []
    for row in rows:
        if row.current is not None:
            continue
        meter_id = row.meter.id
        inputs.append(
            services.ReadingInput(
                meter_id=meter_id,
                raw_value=request.form.get(f"value-{meter_id}", ""),
                confirm_rollover=request.form.get(f"rollover-{meter_id}") == "y",
                photo=request.files.get(f"photo-{meter_id}"),
                label=row.meter.serial_number,
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
    rows = services.readings_form_rows(organisation.id, today)
    errors = {}
    if form.validate_on_submit():
        try:
            result = services.submit_readings(
                organisation.id,
                current_user,
                form.reading_date.data,
                _inputs_from_request(rows),
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
            db.session.commit()
            _flash_result(result, today)
            return redirect(url_for("metering.submit_readings"))
    return render_template(
        "metering/readings_form.html",
        form=form,
        grouped=services.group_by_contract(rows),
        window=window,
        errors=errors,
        values=request.form,
    )


def _flash_result(result, today):
    flash(
        _("Readings saved: %(count)s.", count=len(result.readings)),
        "success",
    )
    if any(reading.is_late for reading in result.readings):
        flash(
            _("The submission window has closed: the readings are marked as late."),
            "warning",
        )
    for reading in result.readings:
        if reading.warning:
            flash(f"{reading.metering_point.serial_number}: {reading.warning}", "warning")


@bp.route("/readings/<int:reading_id>/correct", methods=["GET", "POST"])
@access.power(Power.SUBMIT_READINGS)
def correct_reading(reading_id):
    reading = get_scoped_or_404(Reading, reading_id)
    allowed = services.customer_may_correct(reading)
    form = CorrectionForm()
    if request.method == "GET":
        form.value.data = str(reading.value.normalize())
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
    path = services.photo_path(reading)
    if path is None or not path.is_file():
        abort(404)
    mimetype = "image/png" if path.suffix == ".png" else "image/jpeg"
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
            db.session.commit()
            _flash_result(result, today)
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
    year = request.args.get("year", type=int) or services.local_today().year
    by_period = {r.period: r.consumption for r in readings if r.consumption is not None}
    return render_template(
        "metering/meter_history.html",
        meter=meter,
        readings=readings,
        chart=_history_context(by_period, year),
        staff=staff,
        may_correct=services.customer_may_correct,
    )


@bp.route("/contracts/<int:contract_id>")
@access.power(Power.SUBMIT_READINGS)
def contract_history(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    periods = services.contract_consumption(contract.id)
    year = request.args.get("year", type=int) or services.local_today().year
    chart = _history_context({p: total for p, total, _count in periods}, year)
    return render_template(
        "metering/contract_history.html", contract=contract, periods=periods, chart=chart
    )


@bp.route("/account")
@access.power(Power.VIEW_FINANCE)
def account():
    organisation = current_organisation()
    operations, balance = services.account_operations(organisation.id)
    return render_template(
        "metering/account.html", operations=operations, balance=balance, organisation=organisation
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
@access.staff()
def staff_mark_reviewed(reading_id):
    reading = _staff_reading(reading_id)
    if ConfirmForm().validate_on_submit():
        services.mark_reviewed(reading, current_user)
        db.session.commit()
        flash(_("The reading is marked as reviewed."), "success")
    return redirect(url_for("metering.staff_review"))


@bp.route("/staff/readings/<int:reading_id>/correct", methods=["GET", "POST"])
@access.staff()
def staff_correct_reading(reading_id):
    reading = _staff_reading(reading_id)
    organisation = db.session.get(Organisation, reading.organisation_id)
    form = CorrectionForm()
    if request.method == "GET":
        form.value.data = str(reading.value.normalize())
    if form.validate_on_submit():
        require_manage_organisation(organisation)
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


def _contract_choices(organisation):
    contracts = db.session.scalars(
        select(Contract)
        .where(Contract.organisation_id == organisation.id)
        .order_by(Contract.number)
    )
    return [(0, _("Not specified"))] + [(c.id, c.number) for c in contracts]


def _render_staff_organisation(organisation, payment_form=None, adjustment_form=None):
    today = services.local_today()
    payment_form = payment_form or PaymentForm(formdata=None, entry_date=today)
    adjustment_form = adjustment_form or AdjustmentForm(formdata=None, entry_date=today)
    payment_form.contract_id.choices = adjustment_form.contract_id.choices = _contract_choices(
        organisation
    )
    operations, balance = services.account_operations(organisation.id)
    return render_template(
        "metering/staff_organisation.html",
        organisation=organisation,
        rows=services.readings_form_rows(organisation.id, today),
        operations=operations,
        balance=balance,
        payment_form=payment_form,
        adjustment_form=adjustment_form,
    )


def _gas_organisation_or_404(organisation_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    if organisation.kind != OrganisationKind.GAS:
        abort(404)
    return organisation


@bp.route("/staff/organisations/<int:organisation_id>")
@access.staff()
def staff_organisation(organisation_id):
    return _render_staff_organisation(_gas_organisation_or_404(organisation_id))


@bp.route("/staff/organisations/<int:organisation_id>/payments", methods=["POST"])
@access.staff()
def staff_enter_payment(organisation_id):
    organisation = _gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    form = PaymentForm()
    form.contract_id.choices = _contract_choices(organisation)
    if form.validate_on_submit():
        try:
            services.enter_payment(
                organisation,
                form.amount.data,
                form.entry_date.data,
                form.document_number.data,
                current_user,
                contract_id=form.contract_id.data,
            )
        except services.MeteringError as error:
            db.session.rollback()
            getattr(form, error.field_name or "amount").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The payment has been recorded."), "success")
            return redirect(url_for("metering.staff_organisation", organisation_id=organisation.id))
    return _render_staff_organisation(organisation, payment_form=form), 400


@bp.route("/staff/organisations/<int:organisation_id>/adjustments", methods=["POST"])
@access.staff()
def staff_enter_adjustment(organisation_id):
    organisation = _gas_organisation_or_404(organisation_id)
    require_manage_organisation(organisation)
    form = AdjustmentForm()
    form.contract_id.choices = _contract_choices(organisation)
    if form.validate_on_submit():
        try:
            services.enter_adjustment(
                organisation,
                form.amount.data,
                form.entry_date.data,
                form.reason.data,
                current_user,
                contract_id=form.contract_id.data,
            )
        except services.MeteringError as error:
            db.session.rollback()
            getattr(form, error.field_name or "amount").errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The adjustment has been recorded."), "success")
            return redirect(url_for("metering.staff_organisation", organisation_id=organisation.id))
    return _render_staff_organisation(organisation, adjustment_form=form), 400


@bp.route("/staff/payments", methods=["GET", "POST"])
@access.staff()
def staff_payments():
    form = StatementForm()
    report = None
    if form.validate_on_submit():
        try:
            report = services.import_bank_statement(form.file.data.read(), current_user)
        except services.StatementRejected as rejection:
            db.session.rollback()
            report = rejection.report
            form.file.errors.append(str(rejection.message))
        except services.MeteringError as error:
            db.session.rollback()
            form.file.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Payments imported: %(count)s.", count=len(report)), "success")
    balances = dict(
        db.session.execute(
            select(
                ledger.LedgerEntry.organisation_id,
                func.sum(ledger.LedgerEntry.debit - ledger.LedgerEntry.credit),
            ).group_by(ledger.LedgerEntry.organisation_id)
        ).all()
    )
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.GAS)
        .order_by(Organisation.legal_name)
    ).all()
    return render_template(
        "metering/staff_payments.html",
        form=form,
        report=report,
        organisations=organisations,
        balances=balances,
    )
