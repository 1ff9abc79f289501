"""A pharmacy buyer searches as people type: a glued unit, the wrong keyboard layout, Latin
letters, a query with no match that offers «Возможно, вы искали …»."""

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def search(page, server, query):
    page.goto(server.url + "/catalog/")
    page.fill("#q", query)
    page.click("form >> text=Найти")
    return page.inner_text("main")


def test_search_forgives_and_suggests(page, live_server):
    sign_in(page, live_server, "buyer")
    assert "Нурофен, таблетки покрытые оболочкой, 200 мг" in search(
        page, live_server, "нурофен 200мг"
    )
    assert "Нурофен" in search(page, live_server, "yehjaty")
    assert "Парацетамол" in search(page, live_server, "paracetamol")
    page.snap("latin")

    found = search(page, live_server, "нурофен 300 мг")
    assert "Ничего не найдено. Возможно, вы искали: нурофен" in found
    suggestion = page.locator('[data-testid="suggestions"] a').first
    assert suggestion.is_visible() and suggestion.bounding_box()["x"] >= 0
    page.snap("suggestion")
    suggestion.click()
    assert page.input_value("#q") == "нурофен"
    assert "Нурофен" in page.inner_text("main")
