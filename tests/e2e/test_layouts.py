"""Layouts people work in: office laptops (1366 and 1280 px) and a phone (375 px).

On a laptop the side menu is visible without a menu button and marks the current section; on a
phone the menu opens from the top bar. On every page of the buyer's, the gas customer's and the
manager's day the page's main button lies inside the viewport and nothing scrolls sideways.
Screenshots of each page go to test-artifacts/e2e/layouts/.
"""

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 1280, 375)

# (login, path, the main button or link of the page, the menu entry marked as current)
JOURNEYS = {
    "buyer": [
        ("/catalog/?in_stock=1", "form.add-to-cart button", "Каталог"),
        ("/cart", "main a.btn-primary", "Корзина"),
        ("/orders", "main table a", "Заказы"),
        ("/organisation/users", "main a.btn-primary", None),
    ],
    "gas": [
        ("/metering/readings", "main form button[type=submit]", "Показания"),
        ("/metering/meters", "main table a", "Счётчики"),
    ],
    "manager": [
        ("/backoffice/", "main a", None),
        ("/backoffice/orders", "main table a", "Заказы"),
    ],
}


@pytest.fixture(params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def sized_page(request, playwright_browser):
    width = request.param
    context = playwright_browser.new_context(
        viewport={"width": width, "height": 812 if width < 576 else 800}, locale="ru-RU"
    )
    page = context.new_page()
    page.width = width
    yield page
    context.close()


def _no_sideways_scroll(page):
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px"


def _inside_viewport(page, locator):
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, f"{page.url}: the main button is not displayed"
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.width, (
        f"{page.url}: the main button lies outside the {page.width} px viewport: {box}"
    )


def _menu_is_reachable(page, current):
    menu = page.locator("#mainnav")
    toggler = page.locator(".navbar-toggler")
    if page.width >= 992:
        assert not toggler.is_visible(), "on a laptop the menu must not hide behind a button"
        assert menu.is_visible()
    else:
        assert not menu.is_visible(), "on a phone the menu stays closed until asked for"
        toggler.click()
        page.wait_for_selector("#mainnav.show")
        assert menu.is_visible()
    if current:
        active = menu.locator("a.active")
        assert active.count() == 1
        assert active.inner_text().strip().startswith(current)
        assert active.get_attribute("aria-current") == "page"
    if page.width < 992:
        toggler.click()
        page.wait_for_selector("#mainnav:not(.show)", state="attached")


@pytest.mark.parametrize("login", sorted(JOURNEYS))
def test_menu_and_main_button_fit_the_screen(sized_page, live_server, login):
    page = sized_page
    shots = ARTIFACTS / "layouts"
    shots.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, login)
    if login == "buyer":  # the cart page's button needs a line in the cart
        page.goto(live_server.url + "/catalog/?in_stock=1")
        page.locator("form.add-to-cart").first.locator("button").click()
        count = page.locator("[data-testid=cart-count]")
        count.wait_for()  # the partial update swaps the top bar's count in
        assert count.is_visible() and int(count.inner_text()) >= 1
    for path, button, current in JOURNEYS[login]:
        page.goto(live_server.url + path)
        assert page.url.split("?")[0].rstrip("/").endswith(path.split("?")[0].rstrip("/"))
        page.screenshot(
            path=str(shots / f"{login}-{page.width}{path.split('?')[0].replace('/', '_')}.png"),
            full_page=True,
        )
        _no_sideways_scroll(page)
        _inside_viewport(page, page.locator(button).first)
        _menu_is_reachable(page, current)
        # The bell and the user's menu stay in the top bar at every width.
        assert page.get_by_role("link", name="Уведомления").first.is_visible()
        assert page.locator(".user-menu").is_visible()


def test_out_of_stock_rows_offer_no_add_button(page, live_server):
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/catalog/")
    rows = page.locator("[data-testid=item-row]")
    seen_empty = False
    for index in range(rows.count()):
        row = rows.nth(index)
        stock = int(row.locator("td").nth(2).inner_text().strip())
        if stock <= 0:
            seen_empty = True
            assert row.locator("form.add-to-cart").count() == 0
            assert row.locator("[data-testid=out-of-stock]").inner_text() == "Нет в наличии"
        else:
            assert row.locator("form.add-to-cart button").is_visible()
    assert seen_empty, "the demo catalogue's first page has items out of stock"
