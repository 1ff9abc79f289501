"""The readings page states the window's one rule; the staff contract page prints plain numbers.

Screenshots (1280 and 375 px) go to test-artifacts/e2e/<test name>/.
"""

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_readings_page_names_the_window_and_its_marks(page, live_server):
    sign_in(page, live_server, "gas")
    page.goto(live_server.url + "/metering/readings")
    text = page.inner_text("main")
    assert re.search(r"Показания за \w+ \d{4} принимаются с \d\d\.\d\d\.\d{4} по", text)
    assert "с пометкой «досрочно»" in text and "с пометкой «с опозданием»" in text
    assert "m³" not in text  # the unit is «м³» (on a phone it sits in the cells' labels)
    assert no_sideways_scroll(page)
    page.snap("readings")


def test_staff_contract_page_prints_tariffs_without_exponents(page, live_server):
    sign_in(page, live_server, "manager")
    page.goto(live_server.url + "/backoffice/metering/review")
    page.goto(live_server.url + "/backoffice/metering/contracts/1/edit")
    text = page.inner_text("main")
    assert "за тыс. м³" in text
    assert not re.search(r"[0-9]E[+-][0-9]", text)
    assert re.search(r"\d[\u202f\u00a0]\d{3},\d\d\u00a0₽", text)  # «7 850,00 ₽»
    assert no_sideways_scroll(page)
    page.snap("staff-contract")
