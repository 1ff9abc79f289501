"""The gas customer's pages: the month's readings (form and XLSX file), corrections in the
window, meters, their history and the contracts' consumption."""

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock, errors
from portal.errors import UserError
from portal.metering import (
    bp,
    charts,
    corrections,
    pages,
    readings,
    registry,
    submission,
    workbook,
)
from portal.metering.forms import ReadingsForm, UploadForm
from portal.metering.models import Contract, MeteringPoint, Reading, ReadingSource
from portal.metering.submission import ReadingInput, ReadingsRejected
from portal.metering.window import submission_window
from portal.organisations.models import GAS_KINDS, Power
from portal.security import access, current_organisation, get_scoped_or_404

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READINGS = Power.SUBMIT_READINGS


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
            ReadingInput(
                meter_id=meter_id,
                raw_value=request.form.get(name, ""),
                confirm_rollover=request.form.get(f"rollover-{meter_id}") == "y",
                photo=request.files.get(f"photo-{meter_id}"),
                label=str(meter_id),
            )
        )
    return inputs


@bp.route("/readings", methods=["GET", "POST"])
@access.power(READINGS, kinds=GAS_KINDS)
def submit_readings():
    organisation = current_organisation()
    today = clock.local_today()
    form = ReadingsForm()
    if request.method == "GET":
        form.reading_date.data = today
    line_errors = {}
    if form.validate_on_submit():
        try:
            result = submission.submit_readings(
                organisation.id,
                current_user,
                form.reading_date.data,
                _inputs_from_request(),
                today=today,
            )
        except ReadingsRejected as rejection:
            line_errors = rejection.details["errors"]
            errors.show(rejection, category="danger")
        except UserError as error:
            errors.show(error, form, category="danger")
        else:
            _flash_all(_result_messages(result))
            return redirect(url_for("metering.submit_readings"))
    # Only a GET or a refused submission renders the whole table.
    rows = readings.readings_form_rows(organisation.id, today)
    shown = {row.meter.id for row in rows}
    for meter_id, message in line_errors.items():
        if meter_id not in shown:
            flash(message, "danger")
    return errors.form_page(
        "metering/readings_form.html",
        form=form,
        grouped=readings.group_by_contract(rows),
        window=submission_window(today),
        errors=line_errors,
        values=request.form,
    )


def _result_messages(result):
    """The messages about a saved submission, from the readings built for them (not loaded
    from the database: nothing is read back after the INSERT)."""
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
@access.power(READINGS, kinds=GAS_KINDS)
def correct_reading(reading_id):
    reading = get_scoped_or_404(Reading, reading_id)
    return pages.correction_page(
        reading, staff=False, allowed=corrections.customer_may_correct(reading)
    )


@bp.route("/readings/<int:reading_id>/photo")
@access.power(READINGS, kinds=GAS_KINDS)
def reading_photo(reading_id):
    return pages.send_photo(get_scoped_or_404(Reading, reading_id))


@bp.route("/readings/template.xlsx")
@access.power(READINGS, kinds=GAS_KINDS)
def download_template():
    rows = readings.readings_form_rows(current_organisation().id)
    content = workbook.build_template(rows, current_user.language)
    return send_file(
        io.BytesIO(content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"readings-{clock.local_today():%Y-%m}.xlsx",
    )


@bp.route("/readings/upload", methods=["GET", "POST"])
@access.power(READINGS, kinds=GAS_KINDS)
def upload_readings():
    organisation = current_organisation()
    today = clock.local_today()
    form = UploadForm()
    if request.method == "GET":
        form.reading_date.data = today
    line_errors = []
    if form.validate_on_submit():
        labels = {}
        try:
            inputs = workbook.parse_upload(form.file.data, organisation.id)
            labels = {line.meter_id: line.label for line in inputs}
            result = submission.submit_readings(
                organisation.id,
                current_user,
                form.reading_date.data,
                inputs,
                source=ReadingSource.FILE,
                today=today,
            )
        except ReadingsRejected as rejection:
            line_errors = [(labels.get(k, k), m) for k, m in rejection.details["errors"].items()]
            errors.show(rejection, form, default_field="file")
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            _flash_all(_result_messages(result))
            return redirect(url_for("metering.submit_readings"))
    return errors.form_page("metering/upload.html", form=form, line_errors=line_errors)


@bp.route("/meters")
@access.power(READINGS, kinds=GAS_KINDS)
def list_meters():
    organisation = current_organisation()
    rows = readings.readings_form_rows(organisation.id)
    contracts = registry.organisation_contracts(organisation.id)
    return render_template(
        "metering/meters.html", grouped=readings.group_by_contract(rows), contracts=contracts
    )


@bp.route("/meters/<int:meter_id>")
@access.power(READINGS, kinds=GAS_KINDS)
def meter_history(meter_id):
    return pages.render_meter_history(get_scoped_or_404(MeteringPoint, meter_id), staff=False)


@bp.route("/contracts/<int:contract_id>")
@access.power(READINGS, kinds=GAS_KINDS)
def contract_history(contract_id):
    contract = get_scoped_or_404(Contract, contract_id)
    periods = charts.contract_consumption(contract.id)
    by_period = {period: total for period, total, _count in periods}
    chart = charts.consumption_chart(by_period, pages.chart_year(), charts.month_names())
    return render_template(
        "metering/contract_history.html", contract=contract, periods=periods, chart=chart
    )


from portal.metering import plans_views  # noqa: E402, F401 - attaches the plan pages
