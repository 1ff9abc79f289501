"""The table reader on its own: each kind of hostile or broken file gets the reader's refusal
with the limit named, never another exception."""

import io
import struct
import zipfile

import pytest

from portal.files import tables
from tests.files.bombs import _replace_member, workbook_bytes

LIMITS = tables.TableLimits(
    max_rows=10,
    max_columns=5,
    max_cell_chars=100,
    max_uncompressed_bytes=20 * 1024 * 1024,
    max_compression_ratio=100,
    max_seconds=10,
)


def refusal(reader, data, limits=LIMITS) -> str:
    with pytest.raises(tables.TableError) as caught:
        reader(data, limits)
    return str(caught.value)


def test_a_member_compressed_beyond_the_ratio_is_refused(in_request):
    # 5 MB of one letter deflate to ~5 KB: within the size limit, far beyond the ratio
    sheet = workbook_bytes([["x"]])
    data = _replace_member(sheet, "xl/worksheets/sheet1.xml", [b"A" * (5 << 20)])
    assert "сжат более чем в 100 раз" in refusal(tables.read_xlsx, data)


def test_a_member_lying_about_its_size_is_damaged(in_request):
    data = bytearray(_replace_member(workbook_bytes([["x"]]), "xl/sharedStrings.xml", [b"A" * 99]))
    # the central directory says 10 bytes where 99 are stored: zipfile stops at 10, CRC fails
    central = data.rindex(b"PK\x01\x02xl/sharedStrings.xml"[:4])
    struct.pack_into("<I", data, central + 24, 10)
    assert "повреждён" in refusal(tables.read_xlsx, bytes(data))


def test_entity_declarations_are_refused(in_request):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData/></worksheet>"
    )
    data = _replace_member(workbook_bytes([["x"]]), "xl/worksheets/sheet1.xml", [bomb])
    assert "XML-сущности" in refusal(tables.read_xlsx, data)


def test_a_zip_of_an_unknown_version_is_damaged(in_request):
    """Found by the coverage-guided run: zipfile raised NotImplementedError (a 500)."""
    data = bytearray(workbook_bytes([["x"]]))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 6, 115)  # "version needed to extract": 11.5
    assert "повреждён" in refusal(tables.read_xlsx, bytes(data))


def test_rows_columns_and_cells_over_the_limits_name_them(in_request):
    many_rows = workbook_bytes([[n] for n in range(12)])
    assert "больше 10 строк" in refusal(tables.read_xlsx, many_rows)
    wide = workbook_bytes([[1, 2, 3, 4, 5, 6]])
    assert "больше 5 столбцов" in refusal(tables.read_xlsx, wide)
    long_cell = workbook_bytes([["ok"], ["x" * 101]])
    assert "Ячейка в строке 2 длиннее 100 символов" in refusal(tables.read_xlsx, long_cell)
    assert "больше 10 строк" in refusal(tables.read_csv, b"a\n" * 12)
    assert "больше 5 столбцов" in refusal(tables.read_csv, b"1;2;3;4;5;6\n")
    assert "длиннее 100 символов" in refusal(tables.read_csv, b"a;" + b"x" * 101)


def test_empty_cells_beyond_the_limits_and_trailing_rows_cost_nothing(in_request):
    rows = tables.read_xlsx(workbook_bytes([[1, None, 2], [], [None, "a"]]), LIMITS)
    assert rows == [["1", "", "2"], [], ["", "a"]]
    assert tables.read_csv(b"1;;2;;;;;;;;\n\n\n\n\n\n\n\n\n\n\n\n\n", LIMITS)[0] == ["1", "", "2"]


def test_csv_in_either_encoding_and_any_delimiter(in_request):
    assert tables.read_csv("Код;Кол\n1;2".encode("cp1251"), LIMITS) == [["Код", "Кол"], ["1", "2"]]
    assert tables.read_csv("\ufeffa,b\n1,2".encode(), LIMITS) == [["a", "b"], ["1", "2"]]
    assert tables.read_csv(b"a\tb\n1\t2", LIMITS) == [["a", "b"], ["1", "2"]]
    assert "UTF-8 или Windows-1251" in refusal(tables.read_csv, b"\x98\x98")
    assert "таблицей CSV" in refusal(tables.read_csv, b"a;b\x00")


def test_the_clock_stops_a_slow_reading(in_request):
    slow = tables.TableLimits(**{**LIMITS.__dict__, "max_rows": 10**6, "max_seconds": 0})
    data = workbook_bytes([[n] for n in range(2000)])
    assert "дольше 0 с" in refusal(tables.read_xlsx, data, slow)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("x", "x")
    assert "повреждён" in refusal(tables.read_xlsx, zipped.getvalue())
