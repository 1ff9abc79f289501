"""The day of a buyer, a gas customer and a manager at 1366, 1280 and 375 px.

The buyer searches, adds to the cart and changes a quantity by partial updates (the page is not
reloaded: a marker set on `window` survives), and checks out; the gas customer submits readings
and opens the settlement account; the manager opens the application queue and an organisation.
On every page the menu is visible (laptop) or opens from the top bar (phone), the page's main
button lies inside the viewport and nothing scrolls sideways. Screenshots of every step go to
test-artifacts/e2e/journeys/ (git-ignored, kept by CI as artefacts).
"""

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 1280, 375)
SHOTS = ARTIFACTS / "journeys"


@pytest.fixture(scope="module", autouse=True)
def _fresh_screenshots():
    """This run's screenshots only: a step removed from a test leaves no old picture behind."""
    if SHOTS.exists():
        for old in SHOTS.glob("*.png"):
            old.unlink()


@pytest.fixture(params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def sized(request, playwright_browser):
    width = request.param
    context = playwright_browser.new_context(
        viewport={"width": width, "height": 812 if width < 576 else 768}, locale="ru-RU"
    )
    page = context.new_page()
    page.width = width
    SHOTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))
    name = request.node.name.split("[")[0].removeprefix("test_")

    def snap(step):
        path = SHOTS / f"{name}-{width}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)

    page.snap = snap
    yield page
    context.close()


def check_page(page, main_button):
    """The three promises of every page: no sideways scroll, main button in view, menu."""
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px at {page.width} px"
    button = page.locator(main_button).first
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None, f"{page.url}: the main button {main_button!r} is not displayed"
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.width, (
        f"{page.url}: the main button lies outside the {page.width} px viewport: {box}"
    )
    menu, toggler = page.locator("#mainnav"), page.locator(".navbar-toggler")
    if page.width >= 992:
        assert menu.is_visible() and not toggler.is_visible()
    else:
        assert toggler.is_visible() and not menu.is_visible()
        toggler.click()
        page.wait_for_selector("#mainnav.show")
        assert menu.locator("a.nav-link").first.is_visible()
        toggler.click()
        page.locator("#mainnav").wait_for(state="hidden")  # closed, its animation over


def not_reloaded(page):
    return page.evaluate("() => window.__sameDocument === true")


def test_buyer_searches_fills_the_cart_by_partial_updates_and_checks_out(sized, live_server):
    page = sized
    refused = []  # what the browser refused to run (CSP) or failed at
    page.on("console", lambda m: m.type == "error" and refused.append(f"{page.url}: {m.text}"))
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/cart")
    while (left := page.locator("[data-testid=cart-line]").count()) > 0:  # a clean cart
        page.locator("[data-testid=cart-line] button[name=remove]").first.click()
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=cart-line]').length < n", arg=left
        )
    page.goto(live_server.url + "/catalog/?q=" + "нурофен 200мг")
    rows = page.locator("[data-testid=item-row]", has=page.locator("form.add-to-cart"))
    assert "Нурофен" in rows.first.inner_text()
    check_page(page, "form.add-to-cart button")
    page.snap("search")

    page.evaluate("() => { window.__sameDocument = true; }")
    row = rows.first
    row.locator("input[name=quantity]").fill("1")
    row.locator("form.add-to-cart button").click()
    status = row.locator("[data-testid=cart-status]")
    status.wait_for()
    assert "в корзине" in status.inner_text()
    page.wait_for_selector("[data-testid=cart-count]")
    assert page.locator("[data-testid=cart-count]").inner_text().strip() == "1"
    assert not_reloaded(page), "adding to the cart reloaded the page"
    page.snap("added")

    row.locator("a").first.click()  # the item card: mark and unmark a favourite in place
    page.wait_for_url(re.compile(r"/catalog/items/\d+"))
    page.evaluate("() => { window.__sameDocument = true; }")
    favourite = page.locator("[data-testid=favourite-button]")
    before = favourite.inner_text()
    favourite.click()
    page.wait_for_function(
        "t => document.querySelector('[data-testid=favourite-button]').innerText !== t",
        arg=before,
    )
    page.snap("favourite")
    page.locator("[data-testid=favourite-button]").click()
    page.wait_for_function(
        "t => document.querySelector('[data-testid=favourite-button]').innerText === t",
        arg=before,
    )
    assert not_reloaded(page), "the favourite button reloaded the page"

    page.locator("[data-testid=top-cart3]").click()
    page.wait_for_url(re.compile(r"/cart$"))
    check_page(page, "#cart-actions a.btn-primary")
    line = page.locator("[data-testid=cart-line]").first
    total_before = page.locator("[data-testid=cart-total]").inner_text()
    page.evaluate("() => { window.__sameDocument = true; }")
    quantity = line.locator("input.qty-input")
    quantity.fill("3")
    quantity.press("Tab")  # the change event sends the line
    page.wait_for_function(
        "before => document.querySelector('[data-testid=cart-total]').innerText !== before",
        arg=total_before,
    )
    assert page.locator("[data-testid=cart-line] input.qty-input").first.input_value() == "3"
    # One total (replaced, not added to), equal to the one line's new amount.
    assert page.locator("[data-testid=cart-total]").count() == 1
    amount = page.locator("[data-testid=line-amount]").first.inner_text()
    assert page.locator("[data-testid=cart-total]").inner_text() == amount
    assert page.locator("[data-testid=cart-line]").count() == 1
    assert not_reloaded(page), "changing a quantity reloaded the page"
    page.snap("quantity-changed")

    quantity = page.locator("[data-testid=cart-line] input.qty-input").first
    quantity.fill("0,5")  # refused: the message in the row, nothing saved
    quantity.press("Tab")
    error = page.locator("[data-testid=line-error]")
    error.wait_for()
    assert error.is_visible() and error.inner_text().strip()
    page.snap("quantity-refused")
    page.reload()
    assert page.locator("[data-testid=cart-line] input.qty-input").first.input_value() == "3"

    page.locator("#cart-actions a.btn-primary").click()
    page.wait_for_url(re.compile(r"/checkout"))
    check_page(page, "main form button[type=submit], main form input[type=submit]")
    page.snap("checkout")
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/orders/\d+"))
    assert page.locator("[data-testid=cart-count]").count() == 0  # the cart is empty now
    page.snap("order")
    assert not [text for text in refused if "Content Security Policy" in text], refused


def test_gas_customer_submits_readings_and_opens_the_account(sized, live_server):
    page = sized
    sign_in(page, live_server, "gas")
    page.goto(live_server.url + "/metering/readings")
    check_page(page, "main form button[type=submit]")
    page.snap("readings")
    rows = page.locator("tbody tr", has=page.locator("input.reading-input"))
    if rows.count():  # the first width submits; the others see them submitted
        for index in range(rows.count()):
            row = rows.nth(index)
            previous = float(
                re.sub(r"[^\d,.]", "", row.locator("td").nth(1).inner_text().split("\n")[0])
                .replace(",", ".")
                .rstrip(".")
            )
            row.locator("input.reading-input").fill(f"{previous + 150:.0f}")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        page.snap("readings-submitted")
    page.goto(live_server.url + "/metering/readings")
    assert "Передано" in page.inner_text("main")

    page.goto(live_server.url + "/settlements/")
    assert page.locator("h1").first.is_visible()
    check_page(page, "main form button[type=submit]")
    page.snap("account")


def test_manager_reviews_the_queue_and_opens_an_organisation(sized, live_server):
    page = sized
    sign_in(page, live_server, "manager")
    page.goto(live_server.url + "/backoffice/onboarding/applications")
    check_page(page, "main table a")
    page.snap("queue")
    page.locator("main table a").first.click()
    page.wait_for_url(re.compile(r"/backoffice/onboarding/applications/\d+"))
    check_page(page, "main form button[type=submit], main form input[type=submit]")
    page.snap("application")

    page.goto(live_server.url + "/backoffice/organisations")
    check_page(page, "main table a")
    page.locator("main table a").first.click()
    page.wait_for_url(re.compile(r"/backoffice/organisations/\d+"))
    check_page(page, "main form button[type=submit], main form input[type=submit]")
    page.snap("organisation")
