"""The frame is accessible: landmarks, a skip link, visible keyboard focus, the current section
marked for screen readers, text contrast AA (4.5:1) in the menus computed from the colours the
browser actually paints, and a phone top bar that leaves the screen to the page.
"""

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "accessibility"

# Contrast of every visible text of the top bar and the side menu against the background
# painted behind it (semi-transparent layers blended), per WCAG 2.x relative luminance.
CONTRASTS = """
() => {
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let base = [255, 255, 255];
    for (const l of layers.reverse()) base = base.map((v, i) => l[i] * l[3] + v * (1 - l[3]));
    return base;
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const selector = "#mainnav a.nav-link, #mainnav .sidebar-heading, #mainnav .org-name, "
    + "#mainnav label, #mainnav .badge, .portal-header .nav-link, .portal-header .navbar-brand, "
    + ".portal-header .badge, footer a, footer span";
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.offsetParent !== null && el.innerText.trim())
    .map((el) => {
      const bg = background(el);
      const fg = parse(getComputedStyle(el).color);
      const paint = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
      const [a, b] = [luminance(paint), luminance(bg)].sort((x, y) => y - x);
      return { text: el.innerText.trim().slice(0, 30), ratio: (a + 0.05) / (b + 0.05) };
    });
}
"""


@pytest.fixture
def wide(playwright_browser):
    context = playwright_browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="ru-RU"
    )
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()


@pytest.fixture
def phone(playwright_browser):
    context = playwright_browser.new_context(viewport={"width": 375, "height": 812}, locale="ru-RU")
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()


def test_landmarks_skip_link_and_current_section(wide, live_server):
    page = wide
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/catalog/")
    assert page.get_by_role("banner").count() == 1  # <header> outside <main>
    assert page.get_by_role("navigation", name="Главное меню").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("contentinfo").count() == 1  # <footer>
    current = page.locator("#mainnav [aria-current=page]")
    assert current.count() == 1 and current.inner_text().strip() == "Каталог"

    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    skip = page.locator(".skip-link")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    box = skip.bounding_box()
    assert box and box["width"] > 20 and box["y"] >= 0 and box["y"] + box["height"] <= 768
    assert skip.inner_text() == "Перейти к содержимому"
    page.screenshot(path=str(SHOTS / "skip-link-1366.png"))
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_keyboard_focus_is_visible_in_the_menu(wide, live_server):
    page = wide
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/orders")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('#mainnav a.nav-link')"):
            break
    else:
        pytest.fail("the side menu's links cannot be reached with the Tab key")
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert ring[0] == "solid" and ring[1] >= 2, f"the focused menu link shows no ring: {ring}"
    page.screenshot(path=str(SHOTS / "menu-focus-1366.png"))


@pytest.mark.parametrize("login", ["buyer", "gas", "manager"])
def test_menu_text_contrast_is_aa(wide, live_server, login):
    page = wide
    sign_in(page, live_server, login)
    page.goto(live_server.url + ("/backoffice/orders" if login == "manager" else "/settlements/"))
    measured = page.evaluate(CONTRASTS)
    assert len(measured) >= 8, measured
    poor = [m for m in measured if m["ratio"] < 4.5]
    assert not poor, f"text below 4.5:1 contrast: {poor}"


def test_the_phone_top_bar_leaves_the_screen_to_the_page(phone, live_server):
    page = phone
    sign_in(page, live_server, "buyer")
    page.goto(live_server.url + "/catalog/")
    header = page.locator("header").bounding_box()
    height = page.evaluate("() => window.innerHeight")
    assert header["height"] <= height / 4 * 0.5, f"the top bar takes {header['height']} px"
    assert page.locator("#mainnav").bounding_box() is None  # closed until asked for
    page.screenshot(path=str(SHOTS / "phone-closed-375.png"))
    page.locator(".navbar-toggler").click()
    page.wait_for_selector("#mainnav.show")
    page.wait_for_timeout(400)  # the collapse animation
    toggler = page.locator(".navbar-toggler").bounding_box()
    assert toggler["y"] >= 0  # the button that closes the menu stays on the screen
    assert page.locator("#mainnav a[aria-current=page]").is_visible()
    page.screenshot(path=str(SHOTS / "phone-open-375.png"))
    page.locator(".navbar-toggler").click()
    page.wait_for_selector("#mainnav:not(.show)", state="attached")
