"""The one reader of uploaded tables: the first sheet of an XLSX file or a CSV file as rows of text.

An uploaded spreadsheet is hostile until read: a 1 MB XLSX can inflate to gigabytes, a sheet can
declare 16,384 columns × 1,048,576 rows while holding three cells, a CSV field can be 19 MB.
So every limit is checked while reading, before the memory is spent:

- the archive first: every member's declared size, its compression ratio and then its actual
  inflated size are checked while it is inflated in chunks (and XML declarations of entities,
  which Excel never writes, are refused), so a bomb is refused after reading at most the limit;
- the sheet is then parsed cell by cell (the sheet's declared dimension is ignored and rows are
  never padded to a declared width): a value beyond the column limit, a row beyond the row limit
  or a cell longer than the cell limit stops the reading at once;
- a CSV is decoded (UTF-8 or Windows-1251, as the buyers' and the banks' programs write them)
  and read with a field-size limit;
- the clock is checked all along.

The limits come from the configuration (PORTAL_UPLOAD_* for the files customers upload,
PORTAL_IMPORT_* for the staff imports), and each refusal names the limit in the message.
"""

import csv
import io
import time
import warnings
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import iterparse

from flask import current_app
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from portal.files.sniff import ZIP, sniff

MEGABYTE = 1024 * 1024
# Members smaller than this may be compressed at any ratio: a small, very regular part (styles,
# an empty sheet) compresses well and costs nothing to inflate.
RATIO_CHECKED_FROM = MEGABYTE
MAX_MEMBERS = 1000  # a workbook has a dozen parts; thousands only make the archive slow to list
CHUNK = 64 * 1024
CLOCK_EVERY = 256  # cells (or CSV rows) between two looks at the clock
ENTITY_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")

ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
CELL_TAG = f"{{{SHEET_MAIN_NS}}}c"
CSV_DELIMITERS = (";", "\t", ",")  # on a tie the first wins: «;» is what Russian Excel writes


class TableError(ValueError):
    """The file cannot be read as a table; the message says why and is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class TableLimits:
    max_rows: int  # rows below the first (header) row
    max_columns: int
    max_cell_chars: int
    max_uncompressed_bytes: int  # the XLSX parts once inflated, or the CSV file
    max_compression_ratio: int
    max_seconds: float


def upload_limits() -> TableLimits:
    """The limits for files customers upload (order files, the readings template)."""
    config = current_app.config
    return TableLimits(
        max_rows=config["UPLOAD_MAX_ROWS"],
        max_columns=config["UPLOAD_MAX_COLUMNS"],
        max_cell_chars=config["UPLOAD_MAX_CELL_CHARS"],
        max_uncompressed_bytes=int(config["UPLOAD_MAX_UNCOMPRESSED_MB"] * MEGABYTE),
        max_compression_ratio=config["UPLOAD_MAX_COMPRESSION_RATIO"],
        max_seconds=config["UPLOAD_MAX_SECONDS"],
    )


def import_limits() -> TableLimits:
    """The limits for the staff imports (catalogue, bank statements): more rows, more time."""
    config = current_app.config
    return TableLimits(
        max_rows=config["IMPORT_MAX_ROWS"],
        max_columns=config["UPLOAD_MAX_COLUMNS"],
        max_cell_chars=config["UPLOAD_MAX_CELL_CHARS"],
        max_uncompressed_bytes=int(config["IMPORT_MAX_UNCOMPRESSED_MB"] * MEGABYTE),
        max_compression_ratio=config["UPLOAD_MAX_COMPRESSION_RATIO"],
        max_seconds=config["IMPORT_MAX_SECONDS"],
    )


NOT_A_WORKBOOK = _l("The file is damaged or is not an Excel workbook.")
NOT_A_CSV = _l("The file is damaged or is not a CSV table.")


def read_table(filename, data: bytes, limits: TableLimits, *, error=TableError, **messages):
    """The first sheet of an XLSX file or a CSV file (by the name's extension) as rows of text.

    `error` is the exception raised with the message (each domain passes its own).
    """
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return read_xlsx(data, limits, error=error, **messages)
    if name.endswith(".csv"):
        return read_csv(data, limits, error=error)
    raise error(_l("Upload an Excel (.xlsx) or CSV (.csv) file."))


class _Refused(Exception):
    """Raised inside a reading; the public functions turn it into the caller's error."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class _Reading:
    """The limits and the clock of one reading."""

    def __init__(self, limits: TableLimits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds

    def refuse(self, message):
        raise _Refused(message)

    def check_clock(self):
        if time.monotonic() > self.deadline:
            self.refuse(
                _l(
                    "The file took longer than %(seconds)s s to read: split it into parts.",
                    seconds=f"{self.limits.max_seconds:g}",
                )
            )

    def refuse_rows(self):
        self.refuse(
            _l(
                "The file has more than %(count)s rows: split it into parts.",
                count=self.limits.max_rows,
            )
        )

    def refuse_columns(self):
        self.refuse(
            _l(
                "The file has more than %(count)s columns: keep only the columns of the table.",
                count=self.limits.max_columns,
            )
        )

    def check_cell(self, text: str, row: int):
        if len(text) > self.limits.max_cell_chars:
            self.refuse_cell(row)

    def refuse_cell(self, row: int):
        self.refuse(
            _l(
                "A cell in row %(row)s is longer than %(count)s characters.",
                row=row,
                count=self.limits.max_cell_chars,
            )
        )

    def refuse_size(self):
        self.refuse(
            _l(
                "The file unpacks to more than %(mb)s MB: split it into parts.",
                mb=f"{self.limits.max_uncompressed_bytes / MEGABYTE:g}",
            )
        )


# --- XLSX -------------------------------------------------------------------------------------


def read_xlsx(data: bytes, limits: TableLimits, *, error=TableError, damaged=NOT_A_WORKBOOK):
    """The first sheet of an XLSX workbook as rows of text (trailing empty cells dropped)."""
    reading = _Reading(limits)
    try:
        if sniff(data) != ZIP:
            reading.refuse(damaged)
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except Exception as problem:  # noqa: BLE001 - BadZipFile, NotImplementedError (a "zip
            # version 11.5", found by fuzzing), ValueError...: all of them a damaged file
            raise _Refused(damaged) from problem
        _check_archive(archive, reading, damaged)
        try:
            with warnings.catch_warnings():
                # openpyxl warns about what it drops (extensions, odd styles): none matters here
                warnings.simplefilter("ignore")
                workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                try:
                    return list(_sheet_rows(workbook, reading))
                finally:
                    workbook.close()
        except _Refused:
            raise
        except Exception as problem:  # noqa: BLE001 - whatever a hostile file breaks is "damaged"
            raise _Refused(damaged) from problem
    except _Refused as refusal:
        raise error(refusal.message) from None


def _check_archive(archive: zipfile.ZipFile, reading: _Reading, damaged):
    """Refuse a bomb (size, ratio, entity declarations) before openpyxl opens the archive."""
    limits = reading.limits
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        reading.refuse(damaged)
    if sum(member.file_size for member in members) > limits.max_uncompressed_bytes:
        reading.refuse_size()
    for member in members:
        if _too_compressed(member.file_size, member.compress_size, limits):
            _refuse_ratio(reading)
    inflated = 0
    for member in members:
        member_inflated, tail = 0, b""
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(CHUNK):
                    member_inflated += len(chunk)
                    inflated += len(chunk)
                    # zipfile stops at the declared size; a member that lies about it fails
                    # its CRC check below, so the actual size is what was counted here.
                    if inflated > limits.max_uncompressed_bytes:
                        reading.refuse_size()
                    if _too_compressed(member_inflated, member.compress_size, limits):
                        _refuse_ratio(reading)
                    window = tail + chunk
                    if any(marker in window for marker in ENTITY_MARKERS):
                        reading.refuse(
                            _l(
                                "The workbook declares XML entities, which Excel never writes: "
                                "save it again from Excel."
                            )
                        )
                    tail = chunk[-16:]
                    reading.check_clock()
        except _Refused:
            raise
        except Exception as problem:  # noqa: BLE001 - damaged, encrypted, unknown compression
            raise _Refused(damaged) from problem


def _too_compressed(inflated: int, compressed: int, limits: TableLimits) -> bool:
    return inflated > RATIO_CHECKED_FROM and inflated > limits.max_compression_ratio * max(
        compressed, 1
    )


def _refuse_ratio(reading: _Reading):
    reading.refuse(
        _l(
            "The file is compressed more than %(ratio)s times, which tables never are: "
            "save it again from Excel.",
            ratio=reading.limits.max_compression_ratio,
        )
    )


def _sheet_rows(workbook, reading: _Reading):
    """Rows of the first sheet, cell by cell: rows end at their last value, gaps are empty rows."""
    limits = reading.limits
    sheet = workbook.worksheets[0]
    # The parser of openpyxl turns one <c> element into its value (shared strings, numbers,
    # dates by style); reading the elements ourselves keeps one cell in memory at a time.
    cells = WorkSheetParser(
        None,
        sheet._shared_strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )
    emitted = 0  # rows handed out so far (empty ones included)
    row_element, row_number, values = None, 0, []
    counted = 0
    with workbook._archive.open(sheet._worksheet_path) as source:
        # entity declarations were refused in _check_archive, and expat limits amplification
        events = iterparse(source, events=("start", "end"))  # noqa: S314
        for event, element in events:
            if event == "start":
                if element.tag == ROW_TAG:
                    number = element.get("r")
                    row_number = int(float(number)) if number else row_number + 1
                    if row_number <= emitted:
                        raise ValueError("rows out of order")
                    row_element, values = element, []
                    cells.row_counter, cells.col_counter = row_number, 0
                continue
            if row_element is None:
                element.clear()  # nothing outside the rows is read; keep nothing of it
                continue
            if element.tag == CELL_TAG:
                cell = cells.parse_cell(element)
                row_element.clear()  # the cell is read: drop it from its row
                counted += 1
                if counted % CLOCK_EVERY == 0:
                    reading.check_clock()
                text = _cell_text(cell["value"])
                if not text:
                    continue
                column = cell["column"]
                if column > limits.max_columns:
                    reading.refuse_columns()
                if row_number > limits.max_rows + 1:
                    reading.refuse_rows()
                reading.check_cell(text, row_number)
                if column > len(values):
                    values.extend([""] * (column - len(values)))
                values[column - 1] = text
            elif element.tag == ROW_TAG:
                row_element = None
                element.clear()
                if values:
                    # rows without a value are handed out only when a later row has one
                    while emitted < row_number - 1:
                        emitted += 1
                        yield []
                    emitted = row_number
                    yield values


def _lines(text: str, reading: _Reading):
    """The lines of the text, each with its end; a line no table row could fill is refused.

    A line holds at most max_columns fields, so a longer line than max_columns cells of
    max_cell_chars (with quotes and delimiter) has a cell over the limit: it is refused before
    it is copied out of the text (a StringIO would hold the whole text again, four bytes a
    character).
    """
    limits = reading.limits
    longest = limits.max_columns * (limits.max_cell_chars + 3)
    start, number, size = 0, 0, len(text)
    while start < size:
        number += 1
        end = text.find("\n", start, start + longest + 1)
        if end < 0:
            if size - start > longest:
                reading.refuse_cell(number)
            end = size - 1
        yield text[start : end + 1]
        start = end + 1


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- CSV --------------------------------------------------------------------------------------


def read_csv(data: bytes, limits: TableLimits, *, error=TableError):
    """A CSV file (UTF-8 or Windows-1251; «;», tab or «,» by its first line) as rows of text."""
    try:
        return _csv_rows(data, _Reading(limits))
    except _Refused as refusal:
        raise error(refusal.message) from None


def _csv_rows(data: bytes, reading: _Reading):
    limits = reading.limits
    if len(data) > limits.max_uncompressed_bytes:
        reading.refuse_size()
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        reading.refuse(_l("The CSV file is not in UTF-8 or Windows-1251 encoding."))
    if "\x00" in text:
        reading.refuse(NOT_A_CSV)
    end = text.find("\n", 0, 65536)
    first_line = text[: end if end >= 0 else 65536]
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    # The csv module's own limit (process-wide, set on every reading) stops a long field while
    # it is read, before the field is in memory.
    # ...and is put back after, so other CSV readers (the demo's data files) keep theirs.
    previous = csv.field_size_limit(limits.max_cell_chars)
    try:
        reader = csv.reader(_lines(text, reading), delimiter=delimiter)
        rows = []
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as problem:
                if "field larger than field limit" in str(problem):
                    reading.refuse_cell(reader.line_num)
                raise _Refused(NOT_A_CSV) from problem
            if len(rows) % CLOCK_EVERY == 0:
                reading.check_clock()
            row = [cell.strip() for cell in row]
            while row and not row[-1]:
                row.pop()
            if len(row) > limits.max_columns:
                reading.refuse_columns()
            for cell in row:
                reading.check_cell(cell, reader.line_num)
            rows.append(row)
            if len(rows) > limits.max_rows + 1 and any(row):
                reading.refuse_rows()
        return rows
    finally:
        csv.field_size_limit(previous)
