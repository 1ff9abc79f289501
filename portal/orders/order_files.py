"""Reading buyers' order files (XLSX or CSV) and pasted quick-order text into numbered rows."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from openpyxl.utils import column_index_from_string

from portal.errors import UserError
from portal.files import tables

CODE_HEADERS = {"код", "артикул", "sku", "code", "штрихкод", "штрих-код", "ean", "barcode", "шк"}
QUANTITY_HEADERS = {"количество", "кол-во", "кол", "qty", "quantity", "заказ", "упак"}


@dataclass(frozen=True)
class OrderRow:
    line: int  # as the buyer sees it: the row number in the file or the line in the text
    code: str
    quantity_text: str


SEPARATORS = " \t;,"


def parse_quick_order(text: str) -> list[OrderRow]:
    """Lines of `code quantity` (space, tab, semicolon or comma between); blanks skipped.

    Only the first separator splits: the rest of the line is the quantity as typed («2 шт»,
    «1 200»), so «A1 2,5» is refused as a fraction instead of being read as 25."""
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        line = line.strip(SEPARATORS)
        if not line:  # only separators («;;»): reported as a line without a code
            rows.append(OrderRow(number, "", ""))
            continue
        code, *rest = re.split(r"[\s;,]+", line, maxsplit=1)
        rows.append(OrderRow(number, code, rest[0].strip(SEPARATORS) if rest else ""))
    return rows


def _column_index(choice: str | None) -> int | None:
    """'B' or '2' -> 0-based index 1; empty -> None (recognise by header)."""
    choice = (choice or "").strip().upper()
    if not choice:
        return None
    if choice.isdigit():
        return int(choice) - 1 if int(choice) >= 1 else None
    try:
        return column_index_from_string(choice) - 1
    except ValueError as error:
        raise UserError(_l("Column «%(column)s» does not exist.", column=choice)) from error


# The header is looked for in the first rows: the portal's own price list has a title above it.
HEADER_ROWS_SEARCHED = 5
# The price list's order column: the buyer fills it in for the items they want, so a row left
# empty there is an item not ordered, not a mistake.
ORDER_COLUMN = "заказ"


def _find_header(table):
    """(row index, code column, quantity column) of the first row naming both, or None."""
    for index, values in enumerate(table[:HEADER_ROWS_SEARCHED]):
        header = [c.lower().strip() for c in values]
        found_code = next((i for i, h in enumerate(header) if h in CODE_HEADERS), None)
        found_quantity = next((i for i, h in enumerate(header) if h in QUANTITY_HEADERS), None)
        if found_code is not None and found_quantity is not None:
            return index, found_code, found_quantity
    return None


def read_order_file(filename: str, data: bytes, code_column=None, quantity_column=None):
    """Rows of an XLSX or CSV file as OrderRows, by chosen columns or recognised headers.

    The portal's price list XLSX is an order file too: its «Заказ» column is the quantity,
    and its rows with nothing there are skipped."""
    table = tables.read_table(filename, data, tables.upload_limits(), error=UserError)
    code_index = _column_index(code_column)
    quantity_index = _column_index(quantity_column)
    first_data_row = 0
    skip_empty_quantity = False
    if code_index is None or quantity_index is None:
        found = _find_header(table)
        if found is None:
            raise UserError(
                _l(
                    "Columns not recognised: name them «Код» and «Количество» in the first row, "
                    "or choose the columns below."
                )
            )
        header_row, found_code, found_quantity = found
        code_index = found_code if code_index is None else code_index
        quantity_index = found_quantity if quantity_index is None else quantity_index
        first_data_row = header_row + 1
        header = table[header_row]
        skip_empty_quantity = (
            quantity_index < len(header) and header[quantity_index].lower().strip() == ORDER_COLUMN
        )
    elif table and table[0] and _looks_like_header(table[0], code_index, quantity_index):
        first_data_row = 1
    rows = []
    for offset, values in enumerate(table[first_data_row:], start=first_data_row + 1):
        code = values[code_index] if code_index < len(values) else ""
        quantity = values[quantity_index] if quantity_index < len(values) else ""
        if not quantity.strip() and (skip_empty_quantity or not code):
            continue
        rows.append(OrderRow(offset, code, quantity))
    if not rows:
        raise UserError(_l("The file has no order lines."))
    return rows


def _looks_like_header(values, code_index, quantity_index) -> bool:
    quantity = values[quantity_index] if quantity_index < len(values) else ""
    code = values[code_index] if code_index < len(values) else ""
    return bool(code) and not quantity.replace(",", ".").replace(".", "").isdigit()
