"""One judge of a file's type by its first bytes (portal/files/sniff.py), used by every upload."""

import ast
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image

from portal.files import tables
from portal.files.sniff import JPEG, PDF, PNG, TIFF, ZIP, sniff

PORTAL = Path(__file__).resolve().parent.parent / "portal"
MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"PK\x03\x04", b"II*\x00", b"MM\x00*")


def _image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format=kind)
    return buffer.getvalue()


def _workbook() -> bytes:
    buffer = io.BytesIO()
    book = Workbook()
    book.active.append(["sku", "quantity"])
    book.save(buffer)
    return buffer.getvalue()


def test_real_files_are_recognised_by_their_content():
    from portal.reports.pdf import html_to_pdf

    assert sniff(html_to_pdf("<p>Акт</p>")) == PDF
    assert sniff(_image("JPEG")) == JPEG
    assert sniff(_image("PNG")) == PNG
    assert sniff(_image("TIFF")) == TIFF
    assert sniff(_workbook()) == ZIP


@pytest.mark.parametrize(
    "data",
    [b"", b"%PD", b"<!doctype html><script>", b"MZ\x90\x00 an executable", b"sku;qty\nA1;2\n"],
)
def test_anything_else_is_unknown(data):
    assert sniff(data) is None


def test_the_upload_check_refuses_a_page_named_like_a_pdf(app):
    from portal.documents import storage

    with app.test_request_context(), pytest.raises(storage.FileRefused):
        storage.detect_type(b"<html><body>invoice</body></html>")
    assert storage.detect_type(_image("PNG"), allowed={PNG}) == PNG
    with app.test_request_context(), pytest.raises(storage.FileRefused):
        storage.detect_type(_workbook())  # a ZIP is not a scan


def test_a_table_named_xlsx_must_be_a_workbook(app):
    with app.test_request_context():
        rows = tables.read_table("order.xlsx", _workbook(), tables.import_limits())
        assert rows[0][:2] == ["sku", "quantity"]
        with pytest.raises(tables.TableError):
            tables.read_table("order.xlsx", b"sku;quantity\nA1;2\n", tables.import_limits())


def test_no_other_module_compares_magic_bytes():
    """A second sniffing rule drifts from the first: only sniff.py may hold the signatures."""
    offenders = []
    for path in sorted(PORTAL.rglob("*.py")):
        if path.name == "sniff.py" and path.parent.name == "files":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # A signature is a short literal (a longer pattern, e.g. the PDF version regex, is
            # a structural check made after the sniffing).
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, bytes)
                and len(node.value) <= 8
                and any(node.value.startswith(magic) for magic in MAGIC)
            ):
                offenders.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno}")
    assert offenders == []
