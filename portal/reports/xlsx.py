"""The one XLSX writer: money as numbers with a rouble format, streamed write-only workbooks,
and text always stored as text.

A payment purpose or a document number from a bank file, an address a customer typed or an
item name from an import may start with «=», «+», «-», «@», a tab or a CR: a spreadsheet
program would take it for a formula (=HYPERLINK(...) sends the reader away, =cmd|... runs
commands in old Excel). Every value the sheets of new_write_only() receive goes through
`text_safe`: such text is written as a string cell with Excel's quote prefix (shown as typed,
never evaluated). Numbers, negative ones included, stay numbers.
"""

import io
import tempfile
from copy import copy
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = '#,##0.00" ₽"'
DATE_FORMAT = "DD.MM.YYYY"
COUNT_FORMAT = "#,##0"
BOLD = Font(bold=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(sheet, value, *, bold=False, number_format=None, wrap=False):
    """A write-only cell; Decimal money stays exact (written as a number with 2 places)."""
    worksheet = getattr(sheet, "worksheet", sheet)
    item = WriteOnlyCell(worksheet, value=_without_illegal_characters(value))
    item = _as_text_if_formula_like(item)
    if isinstance(value, Decimal) and number_format is None:
        number_format = MONEY_FORMAT
    if number_format:
        item.number_format = number_format
    if bold:
        item.font = BOLD
    if wrap:
        item.alignment = Alignment(wrap_text=True, vertical="top")
    return item


class NumberCells:
    """Write-only cells of one number format, for many rows: the format is set once on a
    template and its style copied onto each cell (openpyxl's style setters, run per cell,
    cost more than writing the cell). For numbers and dates only: text goes through cell()."""

    def __init__(self, sheet, number_format=None):
        template = cell(sheet, Decimal(0), number_format=number_format)
        self.worksheet = getattr(sheet, "worksheet", sheet)
        self.style = template._style

    def __call__(self, value):
        item = WriteOnlyCell(self.worksheet, value=value)
        item._style = copy(self.style)
        return item


def _without_illegal_characters(value):
    # Control characters (a \x0b in a typed address, a \x01 in a bank file) are not allowed in
    # a worksheet: openpyxl would refuse the whole download; they carry nothing a reader needs.
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _as_text_if_formula_like(item):
    if isinstance(item.value, str) and item.value.startswith(FORMULA_STARTS):
        item.data_type = "s"  # openpyxl made «=…» a formula; a string cell is never evaluated
        item.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return item


class TextSafeSheet:
    """A write-only sheet whose rows never carry a formula: text that looks like one is text."""

    def __init__(self, worksheet):
        self.worksheet = worksheet
        self.rows_written = 0

    def append(self, row):
        self.worksheet.append([self.text_safe(value) for value in row])
        self.rows_written += 1

    def text_safe(self, value):
        value = _without_illegal_characters(value)
        if isinstance(value, Cell):
            return _as_text_if_formula_like(value)
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            return _as_text_if_formula_like(WriteOnlyCell(self.worksheet, value=value))
        return value

    def __getattr__(self, name):  # column_dimensions, freeze_panes, title, ...
        return getattr(self.worksheet, name)


def new_write_only(title: str, column_widths=()):
    """A streaming workbook with one sheet: rows go to disk, memory stays flat, text is text."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, width in enumerate(column_widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return workbook, TextSafeSheet(sheet)


def freeze_above(sheet, row: int) -> None:
    """Keep the rows above `row` (the title and the header) in view while scrolling.
    A streamed sheet writes its view with the first row: call this before appending."""
    getattr(sheet, "worksheet", sheet).freeze_panes = f"A{row}"


def filter_from(sheet, header_row: int, columns: int) -> None:
    """An auto-filter on the header row over every row written so far (call it last)."""
    last_row = max(getattr(sheet, "rows_written", header_row), header_row)
    worksheet = getattr(sheet, "worksheet", sheet)
    worksheet.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{last_row}"


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
