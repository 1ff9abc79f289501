"""What the customer's and the staff's pages both show: a meter's history, a reading's photo
and the correction form (the customer's in the window, the staff's with a reason)."""

from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock, errors, transactions
from portal.errors import UserError
from portal.files import store as file_store
from portal.formatting import plain_number
from portal.metering import charts, corrections, photos, readings, telemetry
from portal.metering.forms import CorrectionForm
from portal.metering.models import ReadingSource
from portal.request_guard import int_arg


def send_photo(reading):
    """A reading's photo, never cached by a browser or a proxy."""
    key = photos.photo_key(reading.photo_name)
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


def chart_year() -> int:
    """The chart shows `year` and the year before: both must be dates Python can hold."""
    return int_arg("year", minimum=2, maximum=9999) or clock.local_today().year


def render_meter_history(meter, *, staff):
    """A meter's readings, chart and telemetry; the staff page shows the same."""
    history = readings.meter_history(meter.id)
    by_period = {r.period: r.consumption for r in history if r.consumption is not None}
    return render_template(
        "metering/meter_history.html",
        meter=meter,
        readings=history,
        chart=charts.consumption_chart(by_period, chart_year(), charts.month_names()),
        telemetry=telemetry.daily_totals(meter.id),
        staff=staff,
        source_labels=ReadingSource.labels(),
        # "today" once per page, not once per row (a time zone conversion each).
        may_correct=partial(corrections.customer_may_correct, today=clock.local_today()),
    )


def correction_page(reading, *, staff: bool, allowed: bool = True):
    """Correct a reading: the customer while the window is open, staff with a reason."""
    form = CorrectionForm()
    if request.method == "GET":
        form.value.data = plain_number(reading.value)
    if allowed and form.validate_on_submit():
        try:
            corrections.correct_reading(
                reading,
                form.value.data,
                current_user,
                reason=form.reason.data if staff else None,
                by_staff=staff,
                confirm_rollover=form.confirm_rollover.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="value")
        else:
            flash(_("The reading has been corrected."), "success")
            history = "metering_staff.meter_history" if staff else "metering.meter_history"
            return redirect(url_for(history, meter_id=reading.metering_point_id))
    elif request.method == "POST":  # the window has closed: the page says so
        transactions.refuse()
    return errors.form_page(
        "metering/correct.html", form=form, reading=reading, allowed=allowed, staff=staff
    )
