"""XLSX helpers: money as numbers with a rouble format, streamed write-only workbooks."""

import io
import tempfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

MONEY_FORMAT = '#,##0.00" ₽"'
DATE_FORMAT = "DD.MM.YYYY"
BOLD = Font(bold=True)


def cell(sheet, value, *, bold=False, number_format=None, wrap=False):
    """A write-only cell; Decimal money stays exact (written as a number with 2 places)."""
    item = WriteOnlyCell(sheet, value=value)
    if isinstance(value, Decimal) and number_format is None:
        number_format = MONEY_FORMAT
    if number_format:
        item.number_format = number_format
    if bold:
        item.font = BOLD
    if wrap:
        item.alignment = Alignment(wrap_text=True, vertical="top")
    return item


def new_write_only(title: str, column_widths=()):
    """A streaming workbook with one sheet: rows go to disk, memory stays flat."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, width in enumerate(column_widths, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    return workbook, sheet


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def to_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_temporary_file(workbook):
    """Save to a temporary file (for large streamed workbooks) and return it rewound."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the caller streams and closes it
    workbook.save(handle)
    handle.seek(0)
    return handle
