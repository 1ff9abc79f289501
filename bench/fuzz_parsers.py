"""A coverage-guided run of the parsers users reach (atheris, libFuzzer for Python).

    make fuzz                                   # 120 s (FUZZ_SECONDS=600 make fuzz for longer)
    .venv/bin/python bench/fuzz_parsers.py -max_total_time=300 [-jobs=2] [corpus-dir ...]

The first byte of each input chooses the parser; the rest is its input: the table reader
(CSV and XLSX bytes, with a handful of real workbooks and CSV files as seeds so the fuzzer
starts inside valid archives, and raw sheet XML put inside a valid workbook), quick-order
lines, and the readers of quantities, readings and amounts. The portal's own modules and
openpyxl are instrumented. A parser may refuse its input with its own error (TableError,
NumberError, MoneyError, UserError); anything else is a crash, which atheris reports with
the input that caused it (saved as crash-<hash> in instance/fuzz-found/). The seeds and what
the run learned are kept in instance/fuzz-corpus.
"""

import contextlib
import io
import sys
import zipfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["portal", "openpyxl"]):
    import openpyxl

    from portal import create_app
    from portal.errors import UserError
    from portal.files import tables
    from portal.metering.readings import parse_volume
    from portal.money import MoneyError, to_money
    from portal.orders.cart import parse_quantity
    from portal.orders.order_files import parse_quick_order
    from portal.validators import NumberError, parse_decimal, parse_whole

LIMITS = tables.TableLimits(
    max_rows=500,
    max_columns=50,
    max_cell_chars=2000,
    max_uncompressed_bytes=4 * 1024 * 1024,
    max_compression_ratio=100,
    max_seconds=5,
)
CSV, XLSX, SHEET_XML, QUICK_ORDER, NUMBERS = range(5)
# Mutated archives mostly fail their CRC before a sheet is parsed: SHEET_XML puts the input, as
# it is, in place of the first sheet of a valid workbook, so the cell-by-cell reading is reached.
SHEET_NAME = "xl/worksheets/sheet1.xml"


def seeds() -> dict[str, bytes]:
    def workbook(rows):
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    return {
        "order.xlsx": bytes([XLSX]) + workbook([["Код", "Количество"], ["F1", 2], [4600, 1.5]]),
        "readings.xlsx": bytes([XLSX])
        + workbook([["Заводской номер", "Адрес"], ["SN-1", "ул. Заводская, 1", None, 5300]]),
        "order.csv": bytes([CSV]) + "Код;Количество\nF1;2\n".encode("cp1251"),
        "bank.csv": bytes([CSV])
        + b"payer_inn;amount;date;document_number\n7701;1000,50;1.1.2026;5\n",
        "quick.txt": bytes([QUICK_ORDER]) + b"F1 2\n4600000000018;3\n;;\n",
        "numbers.txt": bytes([NUMBERS]) + b"1 234,5",
        "sheet.xml": bytes([SHEET_XML])
        + zipfile.ZipFile(io.BytesIO(workbook([["Код", "Количество"], ["F1", 2.5, True]]))).read(
            SHEET_NAME
        ),
    }


def _workbook_with_sheet(sheet: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, content in TEMPLATE.items():
            target.writestr(name, sheet if name == SHEET_NAME else content)
    return buffer.getvalue()


def test_one_input(data: bytes):
    if not data:
        return
    target, body = data[0] % 5, data[1:]
    if target == CSV:
        with contextlib.suppress(tables.TableError):
            tables.read_csv(body, LIMITS)
    elif target == XLSX:
        with contextlib.suppress(tables.TableError):
            tables.read_xlsx(body, LIMITS)
    elif target == SHEET_XML:
        with contextlib.suppress(tables.TableError):
            tables.read_xlsx(_workbook_with_sheet(body), LIMITS)
    else:
        text = body.decode("utf-8", "replace")
        if target == QUICK_ORDER:
            parse_quick_order(text)
        else:
            parse_quantity(text)
            for parse in (parse_whole, lambda t: parse_decimal(t, max_digits=11)):
                with contextlib.suppress(NumberError):
                    parse(text)
            for parse, refusal in ((parse_volume, UserError), (to_money, MoneyError)):
                with contextlib.suppress(refusal):
                    parse(text)


TEMPLATE: dict[str, bytes] = {}


def main():
    book = openpyxl.Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        TEMPLATE.update({name: archive.read(name) for name in archive.namelist()})
    corpus = ROOT / "instance" / "fuzz-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    found = ROOT / "instance" / "fuzz-found"
    found.mkdir(parents=True, exist_ok=True)
    for name, content in seeds().items():
        (corpus / name).write_bytes(content)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # refusals carry translated messages: a request gives them their locale
    with app.test_request_context():
        arguments = [arg for arg in sys.argv if not arg.startswith("-")][1:]
        options = [arg for arg in sys.argv[1:] if arg.startswith("-")]
        if not any(option.startswith("-artifact_prefix") for option in options):
            options.append(f"-artifact_prefix={found}/")
        atheris.Setup([sys.argv[0], *options, *(arguments or [str(corpus)])], test_one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
