"""Reading buyers' order files (XLSX or CSV) and pasted quick-order text into numbered rows."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from openpyxl.utils import column_index_from_string

from portal.files import tables

CODE_HEADERS = {"код", "артикул", "sku", "code", "штрихкод", "штрих-код", "ean", "barcode", "шк"}
QUANTITY_HEADERS = {"количество", "кол-во", "кол", "qty", "quantity", "заказ", "упак"}


class OrderFileError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class OrderRow:
    line: int  # as the buyer sees it: the row number in the file or the line in the text
    code: str
    quantity_text: str


def parse_quick_order(text: str) -> list[OrderRow]:
    """Lines of `code quantity` (space, tab, semicolon or comma between); blanks skipped."""
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p for p in re.split(r"[\s;,]+", line) if p]
        if not parts:  # only separators («;;»): reported as a line without a code
            rows.append(OrderRow(number, "", ""))
            continue
        code = parts[0]
        quantity = parts[1] if len(parts) > 1 else ""
        if len(parts) > 2:
            quantity = " ".join(parts[1:])
        rows.append(OrderRow(number, code, quantity))
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
        raise OrderFileError(_l("Column «%(column)s» does not exist.", column=choice)) from error


def read_order_file(filename: str, data: bytes, code_column=None, quantity_column=None):
    """Rows of an XLSX or CSV file as OrderRows, by chosen columns or recognised headers."""
    table = tables.read_table(filename, data, tables.upload_limits(), error=OrderFileError)
    code_index = _column_index(code_column)
    quantity_index = _column_index(quantity_column)
    first_data_row = 0
    if code_index is None or quantity_index is None:
        header = [c.lower().strip() for c in (table[0] if table else [])]
        found_code = next((i for i, h in enumerate(header) if h in CODE_HEADERS), None)
        found_quantity = next((i for i, h in enumerate(header) if h in QUANTITY_HEADERS), None)
        if found_code is None or found_quantity is None:
            raise OrderFileError(
                _l(
                    "Columns not recognised: name them «Код» and «Количество» in the first row, "
                    "or choose the columns below."
                )
            )
        code_index = found_code if code_index is None else code_index
        quantity_index = found_quantity if quantity_index is None else quantity_index
        first_data_row = 1
    elif table and table[0] and _looks_like_header(table[0], code_index, quantity_index):
        first_data_row = 1
    rows = []
    for offset, values in enumerate(table[first_data_row:], start=first_data_row + 1):
        code = values[code_index] if code_index < len(values) else ""
        quantity = values[quantity_index] if quantity_index < len(values) else ""
        if not code and not quantity:
            continue
        rows.append(OrderRow(offset, code, quantity))
    if not rows:
        raise OrderFileError(_l("The file has no order lines."))
    return rows


def _looks_like_header(values, code_index, quantity_index) -> bool:
    quantity = values[quantity_index] if quantity_index < len(values) else ""
    code = values[code_index] if code_index < len(values) else ""
    return bool(code) and not quantity.replace(",", ".").replace(".", "").isdigit()
