"""The curator corrects the demo pharmacy's supply contract on its back-office page."""

import re

from tests.e2e.conftest import sign_in


def test_the_curator_edits_the_supply_contract(page, live_server):
    sign_in(page, live_server, "manager")
    page.goto(live_server.url + "/backoffice/organisations")
    page.locator("a", has_text="Аптека Здоровье").first.click()
    assert "П-2026-0001" in page.inner_text("main")
    page.fill("#contract_number", "")
    page.fill("#contract_date", "1999-12-31")
    page.click("text=Сохранить договор")
    assert "Укажите номер договора" in page.inner_text("#contract_number-errors")
    assert "01.01.2000" in page.inner_text("#contract_date-errors")
    page.snap("contract-refused")
    page.fill("#contract_number", "П-2026-0001/Д1")
    page.fill("#contract_date", "2026-02-02")
    page.click("text=Сохранить договор")
    assert "Договор поставки сохранён" in page.inner_text("main")
    assert re.search(r"№ П-2026-0001/Д1 от 02\.02\.2026", page.inner_text("main"))
    page.snap("contract-saved")
