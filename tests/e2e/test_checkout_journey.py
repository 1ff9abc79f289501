"""A pharmacy buyer chooses a delivery date at checkout, sees the total and VAT by rate beside
the button, places the order and reads the confirmation e-mail (its HTML shown in the browser)."""

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_buyer_chooses_a_delivery_date_and_gets_the_confirmation(page, live_server):
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/catalog/?q=нурофен")
    page.locator("form.add-to-cart").first.locator("input[name=quantity]").fill("2 шт")
    # The row adds in place (htmx): wait for the server's answer before leaving the page.
    with page.expect_response(lambda response: "/cart/add" in response.url):
        page.locator("form.add-to-cart").first.locator("button").click()
    page.goto(live_server.url + "/checkout")
    totals = page.locator("[data-testid=order-totals]")
    assert "Итого с НДС" in totals.inner_text() and "в том числе НДС" in totals.inner_text()
    button = page.locator("main form button[type=submit]")
    assert totals.bounding_box()["y"] < button.bounding_box()["y"]  # just above the button
    options = page.locator("#delivery_date option")
    assert options.count() == 10
    chosen = options.nth(1).get_attribute("value")
    label = options.nth(1).inner_text()
    page.select_option("#delivery_date", chosen)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # no sideways scrolling
    page.snap("checkout")
    button.click()
    assert "/orders/" in page.url
    day = f"{chosen[8:10]}.{chosen[5:7]}.{chosen[0:4]}"
    assert day in page.inner_text("main")
    page.snap("order")

    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    placed = [m for m in live_server.messages_to("buyer") if "оформлен" in m["Subject"]]
    message = placed[-1]  # the newest: the demo data placed orders too
    html = message.get_body(preferencelist=("html",)).get_content()
    assert day in html and "в том числе НДС" in html and label
    assert f"{live_server.url}/orders/{number}" in html  # the link follows the served address
    page.goto("about:blank")  # as a mail program shows it: not under the portal's CSP
    page.set_content(html)
    page.snap("confirmation-mail")
