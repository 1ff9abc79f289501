"""The readings template: a pre-filled XLSX to download, fill in and upload back."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.errors import UserError
from portal.extensions import db
from portal.files import tables
from portal.metering.models import MeteringPoint
from portal.metering.readings import active_meters_of
from portal.metering.submission import ReadingInput
from portal.reports.xlsx import DATE_FORMAT, cell, new_write_only, to_bytes

SHEET_TITLE = "readings"
# The header in both interface languages; an upload must carry one of them unchanged.
HEADERS = {
    "ru": (
        "Заводской номер",
        "Адрес",
        "Договор",
        "Дата предыдущего показания",
        "Предыдущее показание, м³",
        "Новое показание, м³",
        "Переход через ноль (да)",
    ),
    "en": (
        "Serial number",
        "Address",
        "Contract",
        "Previous reading date",
        "Previous reading, m³",
        "New reading, m³",
        "Rolled over (yes)",
    ),
}
YES = {"да", "yes", "y", "д", "1", "true"}


def build_template(rows, language: str) -> bytes:
    workbook, sheet = new_write_only(SHEET_TITLE, (18, 48, 16, 18, 18, 18, 16))
    headers = HEADERS.get(language, HEADERS["ru"])
    sheet.append([cell(sheet, title, bold=True) for title in headers])
    for row in rows:
        previous = row.previous
        sheet.append(
            [
                row.meter.serial_number,
                row.meter.address,
                row.meter.contract.number,
                cell(sheet, previous.reading_date, number_format=DATE_FORMAT) if previous else None,
                float(previous.value) if previous else None,
                None,
                None,
            ]
        )
    return to_bytes(workbook)


def parse_upload(stream, organisation_id) -> list[ReadingInput]:
    """Read the filled template; a changed header or unknown serials refuse the whole file."""
    table = tables.read_xlsx(
        stream.read(),
        tables.upload_limits(),
        error=lambda message: UserError(message, "file"),
        damaged=_l("The file is not an XLSX workbook. Download the template and fill it in."),
    )
    rows = iter(table)
    header = tuple(next(rows, ()))[:7]
    if header not in HEADERS.values():
        raise UserError(
            _l(
                "The columns of the file differ from the template. Download a fresh template "
                "and enter the readings in the column “New reading” without changing the others."
            ),
            "file",
        )
    meters = {
        meter.serial_number: meter
        for meter in db.session.scalars(
            select(MeteringPoint).where(active_meters_of(organisation_id))
        )
    }
    inputs, unknown, seen = [], [], set()
    for number, values in enumerate(rows, start=2):
        values = tuple(values) + ("",) * 7
        serial = values[0]
        new_value = values[5]
        if not serial and not new_value:
            continue
        meter = meters.get(serial)
        if meter is None:
            where = _("row %(row)s", row=number)
            unknown.append(f"{serial or '—'} ({where})")
            continue
        if meter.id in seen:
            raise UserError(_("Meter %(serial)s appears twice in the file.", serial=serial), "file")
        seen.add(meter.id)
        if not new_value:
            continue
        inputs.append(
            ReadingInput(
                meter_id=meter.id,
                raw_value=new_value,
                confirm_rollover=values[6].lower() in YES,
                label=_("Row %(row)s, meter %(serial)s", row=number, serial=serial),
            )
        )
    if unknown:
        raise UserError(
            _(
                "Unknown meter serial numbers: %(serials)s. Nothing was saved.",
                serials=", ".join(unknown),
            ),
            "file",
        )
    if not inputs:
        raise UserError(_l("The file has no new readings."), "file")
    return inputs
