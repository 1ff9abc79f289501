"""Hostile spreadsheets, built small: the tests stay light while the files claim gigabytes."""

import io
import zipfile
import zlib

from openpyxl import Workbook

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _RepeatingDeflate:
    """Deflates a block once and repeats its output for every identical block written.

    Each block ends with a full flush, which resets the compressor, so the same block always
    deflates to the same bytes: a gigabyte of one letter costs its CRC, not its compression.
    """

    def __init__(self):
        self._compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._known = {}

    def compress(self, data):
        key = (id(data), len(data))
        if key not in self._known:
            out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_FULL_FLUSH)
            self._known[key] = out
        return self._known[key]

    def flush(self):
        return self._compressor.flush()


def _replace_member(data: bytes, name: str, chunks) -> bytes:
    """The workbook with one member rewritten from a generator of byte chunks (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename != name:
                target.writestr(member, source.read(member))
        with target.open(name, "w", force_zip64=True) as stream:
            stream._compressor = _RepeatingDeflate()  # see the class: same bytes, no re-deflating
            for chunk in chunks:
                stream.write(chunk)
    return buffer.getvalue()


def one_cell_inflating_to(header, inflated_bytes: int) -> bytes:
    """An XLSX whose first data cell is one string of `inflated_bytes` letters.

    The header row names the columns (so every form recognises it); the sheet is written from
    a generator, one megabyte block written again and again: the test never holds the cell.
    """
    cells = "".join(
        f'<c r="{chr(65 + index)}1" t="inlineStr"><is><t>{title}</t></is></c>'
        for index, title in enumerate(header)
    )
    opening = (
        f'<worksheet xmlns="{SHEET_NS}"><sheetData><row r="1">{cells}</row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>'
    )

    def chunks():
        yield opening.encode()
        block = b"A" * (1 << 20)  # one object, written again and again
        for _ in range(inflated_bytes // len(block)):
            yield block
        yield b'</t></is></c><c r="B2"><v>1</v></c></row></sheetData></worksheet>'

    return _replace_member(workbook_bytes([["x"]]), "xl/worksheets/sheet1.xml", chunks())


def declared_wide_sheet(header, *, columns="XFD", rows=5000, far_cell=True) -> bytes:
    """A tiny XLSX declaring a sheet of 16,384 columns × `rows` rows, with a few sparse cells:
    the header, one order line and (far_cell) a value in the last declared cell."""
    cells = "".join(
        f'<c r="{chr(65 + index)}1" t="inlineStr"><is><t>{title}</t></is></c>'
        for index, title in enumerate(header)
    )
    sheet = (
        f'<worksheet xmlns="{SHEET_NS}"><dimension ref="A1:{columns}{rows}"/><sheetData>'
        f'<row r="1">{cells}</row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>F1</t></is></c><c r="B2"><v>1</v></c></row>'
        + (f'<row r="{rows}"><c r="{columns}{rows}"><v>1</v></c></row>' if far_cell else "")
        + "</sheetData></worksheet>"
    )
    data = workbook_bytes([["x"]])
    return _replace_member(data, "xl/worksheets/sheet1.xml", [sheet.encode()])
