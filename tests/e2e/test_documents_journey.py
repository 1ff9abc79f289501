"""The demo buyer finds the УПД of a shipped order on its «Документы» tab and the month's
УПД in one ZIP on «Первичные документы»."""

import io
import subprocess
import zipfile

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_buyer_downloads_the_upd_of_a_shipment_and_the_months_zip(page, live_server, tmp_path):
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/settlements/documents")
    listing = page.inner_text("main")
    assert "Первичные документы" in listing and "УПД №" in listing
    page.snap("month-list")

    with page.expect_download() as download_info:
        page.click("[data-testid=month-zip]")
    archive = tmp_path / "month.zip"
    download_info.value.save_as(archive)
    names = zipfile.ZipFile(io.BytesIO(archive.read_bytes())).namelist()
    pdfs = [name for name in names if name.endswith(".pdf")]
    xmls = [name for name in names if name.endswith(".xml")]
    assert pdfs and all(name.startswith("upd-") for name in pdfs)
    assert len(xmls) == len(pdfs) and all(name.startswith("ON_NSCHFDOPPR_") for name in xmls)

    page.locator("table.primary-documents tbody tr").first.locator("td").nth(2).locator("a").click()
    assert page.url.endswith("/documents")
    tab = page.inner_text("main")
    assert "Счёт на оплату" in tab and "Универсальный передаточный документ (УПД)" in tab
    page.snap("order-documents-tab")
    with page.expect_download() as download_info:
        page.click("[data-testid=doc-upd] >> text=PDF")
    pdf = tmp_path / "upd.pdf"
    download_info.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "Универсальный" in text and "Аптека Здоровье" in text
    assert "Всего к оплате (9)" in text and "Товар (груз) передал" in text
