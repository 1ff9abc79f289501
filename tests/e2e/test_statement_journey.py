"""A customer requests a reconciliation statement; the worker makes it; PDF and XLSX downloaded."""

import subprocess

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_statement_is_requested_prepared_in_background_and_downloaded(page, live_server, tmp_path):
    sign_in(page, live_server, "gas")
    page.goto(live_server.url + "/statements/")
    page.fill("#period_start", "2025-01-01")
    page.fill("#period_end", "2025-12-31")
    page.snap("request")
    page.click("main form input[type=submit], main form button[type=submit]")
    page.wait_for_selector("[data-role=links]:not([hidden])", timeout=90_000)
    page.snap("ready")
    with page.expect_download() as pdf_download:
        page.click("[data-role=pdf]")
    pdf = tmp_path / "statement.pdf"
    pdf_download.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Акт сверки" in text and "ТехГаз" in text
    with page.expect_download() as xlsx_download:
        page.click("[data-role=xlsx]")
    xlsx = tmp_path / "statement.xlsx"
    xlsx_download.value.save_as(xlsx)
    workbook = load_workbook(xlsx, read_only=True)
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    workbook.close()
    assert any("Акт сверки" in c for c in cells)
