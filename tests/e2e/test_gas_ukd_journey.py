"""The demo gas customer downloads the monthly УПД of each contract; a manager corrects a
shipped quantity and the demo buyer downloads the УКД from the order's «Документы» tab."""

import re
import subprocess
from datetime import date, timedelta
from urllib.parse import urljoin

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e
CONTRACTS = ("ГП-52-0117/23", "ГП-52-0118/23", "ГП-52-0342/24")


def pdf_text(path) -> str:
    output = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(output.split())


def fetch_pdf(page, link, path) -> str:
    """Download a linked PDF in the page's session (a long timeout: the machine is shared)."""
    url = urljoin(page.url, link.get_attribute("href"))
    response = page.request.get(url, timeout=120_000)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    path.write_bytes(response.body())
    return pdf_text(path)


def last_month() -> str:
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def test_gas_customer_downloads_the_monthly_upd_of_each_contract(page, live_server, tmp_path):
    sign_in(page, live_server, "gas")
    page.goto(f"{live_server.url}/settlements/documents?month={last_month()}")
    rows = page.locator("table.primary-documents tbody tr[data-kind=upd]")
    assert rows.count() == len(CONTRACTS)
    page.snap("gas-month-list")
    found = []
    for index in range(rows.count()):
        link = rows.nth(index).locator("a", has_text=re.compile("^PDF$"))
        text = fetch_pdf(page, link, tmp_path / f"gas-{index}.pdf")
        assert "Счет-фактура № Г-" in text and "тыс м3" in text and "114" in text
        found += [number for number in CONTRACTS if f"Договор поставки газа № {number}" in text]
    assert sorted(found) == sorted(CONTRACTS)
    # The foundry's contract requires the gas transfer act.
    link = page.locator("a", has_text="Акт приёма-передачи газа (PDF)")
    assert "Акт приёма-передачи газа № Г-" in fetch_pdf(page, link, tmp_path / "act.pdf")
    # The contract page lists each month's documents.
    page.goto(live_server.url + "/metering/meters")
    page.locator("a[href*='/metering/contracts/']").first.click()
    assert page.locator("[data-testid=month-documents] a").count() > 0
    page.snap("gas-contract-documents")


def test_manager_corrects_a_shipped_quantity_and_the_buyer_downloads_the_ukd(
    playwright_browser, page, live_server, tmp_path
):
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/settlements/documents")
    page.locator("table.primary-documents tbody tr").first.locator("td").nth(2).locator("a").click()
    order_id = re.search(r"/orders/(\d+)/documents", page.url)[1]

    staff = playwright_browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    manager = staff.new_page()
    sign_in(manager, live_server, "manager")
    manager.goto(f"{live_server.url}/backoffice/orders/{order_id}")
    manager.click("[data-testid=shipment-correction] summary")
    row = manager.locator("[data-testid=shipment-correction] tbody tr").first
    shipped = int(row.locator("td").nth(3).inner_text())
    row.locator("input").fill(str(shipped))
    manager.click("text=Выписать УКД")
    assert "Корректировка ничего не меняет" in manager.inner_text("main")
    manager.click("[data-testid=shipment-correction] summary")
    row = manager.locator("[data-testid=shipment-correction] tbody tr").first
    row.locator("input").fill(str(shipped - 1 if shipped > 0 else 1))
    manager.click("text=Выписать УКД")
    assert "Выписан УКД №" in manager.inner_text("main")
    shots = ARTIFACTS / "staff-shipment-correction"
    shots.mkdir(parents=True, exist_ok=True)
    manager.screenshot(path=str(shots / f"{page.viewport_name}.png"), full_page=True)
    staff.close()

    page.goto(f"{live_server.url}/orders/{order_id}/documents")
    assert page.locator("[data-testid=doc-ukd]").count() >= 1
    page.snap("order-documents-with-ukd")
    link = page.locator("[data-testid=doc-ukd]").last.locator("a", has_text=re.compile("^PDF$"))
    text = fetch_pdf(page, link, tmp_path / "ukd.pdf")
    assert "Корректировочный счет-фактура № К-" in text
    assert "А (до изменения)" in text and "Г (уменьшение)" in text
