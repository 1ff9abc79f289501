"""Parsers on their own: any input gives a value or the parser's own refusal, never another
exception; what is accepted is what a person meant."""

import io
import string
from datetime import date
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st
from openpyxl import Workbook

from portal.errors import UserError
from portal.files import tables
from portal.metering.readings import parse_volume
from portal.money import MoneyError, to_money
from portal.orders.cart import parse_quantity
from portal.orders.order_files import parse_quick_order
from portal.validators import NUMBER_SPACES, NumberError, parse_decimal, parse_whole
from tests.fuzz.conftest import examples

LIMITS = tables.TableLimits(
    max_rows=200,
    max_columns=20,
    max_cell_chars=500,
    max_uncompressed_bytes=2 * 1024 * 1024,
    max_compression_ratio=100,
    max_seconds=10,
)
# Text a person might type, plus what an attacker adds: other scripts' digits, superscripts,
# circled numbers, exponents, separators, control characters.
NUMBERISH = st.text(
    alphabet=st.sampled_from(
        list(string.digits + " ,.-+eE_") + ["\u00a0", "²", "①", "٣", "۷", "߃", "\x00", "\t"]
    ),
    max_size=60,
) | st.text(max_size=60)


@given(NUMBERISH)
def test_whole_numbers_are_ascii_digits_or_refused(text):
    try:
        value = parse_whole(text)
    except NumberError as error:
        assert error.reason in {"digits", "length", "format"}
        return
    assert 0 <= value < 10**9
    assert all(c in string.digits + ",." or c in NUMBER_SPACES for c in text.strip())


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_whole_numbers_round_trip(number):
    assert parse_whole(str(number)) == number
    assert parse_whole(f"{number:,}".replace(",", " ")) == number


@given(NUMBERISH)
def test_decimals_have_no_exponent_and_bounded_digits(text):
    try:
        value = parse_decimal(text, max_digits=11)
    except NumberError:
        return
    assert value.is_finite() and abs(value) < 10**11
    typed = "".join(c for c in text if c not in NUMBER_SPACES)
    assert typed.strip().isascii() and "e" not in typed.lower()


@given(st.decimals(min_value=-(10**11) + 1, max_value=10**11 - 1, places=3))
def test_decimals_round_trip_in_russian_writing(value):
    text = f"{value:,.3f}".replace(",", " ").replace(".", ",")
    assert parse_decimal(text, max_digits=11) == value


@given(NUMBERISH)
def test_quantities_readings_and_money_refuse_cleanly(text):
    quantity = parse_quantity(text)
    assert quantity is None or 1 <= quantity < 10**9
    try:
        volume = parse_volume(text)
    except UserError:
        pass
    else:
        assert volume >= 0 and volume == volume.quantize(Decimal("0.001"))
    try:
        amount = to_money(text)
    except MoneyError:
        pass
    else:
        assert amount == amount.quantize(Decimal("0.01")) and abs(amount) < 10**12


@given(st.text(max_size=2000))
def test_quick_order_lines_keep_their_numbers(text):
    rows = parse_quick_order(text)
    lines = text.splitlines()
    for row in rows:
        assert 1 <= row.line <= len(lines)
        assert not any(c in row.code for c in " \t;,")
        assert lines[row.line - 1].strip()


@given(st.binary(max_size=4000))
def test_any_bytes_as_csv_or_xlsx_are_rows_or_a_refusal(data):
    for reader in (tables.read_csv, tables.read_xlsx):
        try:
            rows = reader(data, LIMITS)
        except tables.TableError:
            continue
        assert len(rows) <= LIMITS.max_rows + 1
        assert all(len(row) <= LIMITS.max_columns for row in rows)
        assert all(isinstance(c, str) and len(c) <= LIMITS.max_cell_chars for r in rows for c in r)


CELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda text: text.strip() == text and not text.startswith("="))
CELL = st.one_of(CELL_TEXT, st.integers(-(10**12), 10**12), st.booleans())
TABLE = st.lists(st.lists(CELL, min_size=1, max_size=6), min_size=1, max_size=12)


@examples(0.5)
@given(TABLE)
def test_xlsx_written_by_excel_like_programs_reads_back_the_same(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = tables.read_xlsx(buffer.getvalue(), LIMITS)
    assert read == [[str(value) for value in row] for row in rows]


@examples(0.5)
@given(TABLE, st.data())
def test_damaged_xlsx_is_a_refusal_never_a_crash(rows, data):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    damaged = bytearray(buffer.getvalue())
    for _ in range(data.draw(st.integers(1, 8))):
        # modulo: the workbook's length varies with its timestamp, the strategy must not
        position = data.draw(st.integers(0, 2**20)) % len(damaged)
        damaged[position] = data.draw(st.integers(0, 255))
    try:
        read = tables.read_xlsx(bytes(damaged), LIMITS)
    except tables.TableError:
        return
    assert all(isinstance(c, str) for row in read for c in row)


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=15,
    ),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
)
def test_csv_round_trip_or_a_refusal(rows, delimiter, encoding):
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    try:
        read = tables.read_csv(data, LIMITS)
    except tables.TableError:
        return
    assert len(read) >= 1


@given(st.text(max_size=40))
def test_bank_statement_dates_are_dates_or_refused(text):
    from portal.billing.bank_import import _parse_date

    try:
        value = _parse_date(text)
    except ValueError:
        return
    assert isinstance(value, date)
