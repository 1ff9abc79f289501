"""A gas customer hands in readings for all meters, sees a refusal, then the consumption chart."""

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def number(text):
    return float(re.sub(r"[^\d,.]", "", text.split("\n")[0]).replace(",", "."))


def test_gas_customer_submits_readings_and_sees_the_chart(page, live_server):
    sign_in(page, live_server, "gas")
    page.goto(live_server.url + "/metering/readings")
    page.snap("form")
    inputs = page.locator("input.reading-input")
    if inputs.count():
        rows = page.locator("tbody tr", has=page.locator("input.reading-input"))
        first = rows.nth(0)
        first.locator("input.reading-input").fill("1")  # below the previous reading
        page.click("main form button[type=submit]")
        assert page.locator(".table-danger").count() >= 1
        assert page.locator(".invalid-feedback, .text-danger").first.is_visible()
        page.snap("refused")
        rows = page.locator("tbody tr", has=page.locator("input.reading-input"))
        for index in range(rows.count()):
            row = rows.nth(index)
            previous = number(row.locator("td").nth(1).inner_text())
            row.locator("input.reading-input").fill(f"{previous + 150:.0f}")
        page.click("main form button[type=submit]")
        page.snap("submitted")
        page.goto(live_server.url + "/metering/readings")
        assert page.locator("input.reading-input").count() == 0
    assert "Передано" in page.inner_text("main")
    page.locator("tbody tr a").first.click()
    chart = page.locator(".consumption-chart svg")
    assert chart.count() == 1 and chart.locator("title").count() >= 1
    page.snap("chart")
