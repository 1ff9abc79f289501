"""A manager creates an organisation, sets its commercial terms and a promotion in the back
office; the new buyer sees the discounted promotion price at once."""

import re
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Winter-terms-2026!"


def _create_organisation(page, server, inn, login):
    page.goto(server.url + "/backoffice/organisations/new")
    page.fill("#legal_name", f'ООО "Аптека Условия {login}"')
    page.select_option("#kind", "pharmacy")
    page.fill("#inn", inn)
    page.fill("#legal_address", "Москва, ул. Садовая, 1")
    page.fill("#delivery_address", "Москва, ул. Садовая, 1")
    page.fill("#region", "Москва")
    page.fill("#user_full_name", "Иванова Анна")
    page.fill("#user_email", f"{login}@apteka.example.org")
    page.fill("#user_login", login)
    page.click("main form [type=submit]")
    return page.inner_text("[data-testid=access-code]").strip()


def test_the_manager_sets_terms_and_a_promotion_and_the_new_buyer_sees_them(
    page, live_server, playwright_browser
):
    wide = page.viewport_name == "desktop"
    login = "terms.desktop" if wide else "terms.phone"
    inn = "7736207543" if wide else "7704217370"
    sign_in(page, live_server, "manager")
    code = _create_organisation(page, live_server, inn, login)
    page.click("main a.btn-primary")  # «Готово»: back to the organisation
    page.click("text=Коммерческие условия")

    page.fill("#discount_percent", "150")
    page.click("text=Сохранить условия")
    assert "от 0 до 100" in page.inner_text("#discount_percent-errors")
    page.fill("#discount_percent", "10")
    page.fill("#credit_limit", "-1")
    page.click("text=Сохранить условия")
    assert "меньше нуля" in page.inner_text("#credit_limit-errors")
    page.snap("terms-refused")
    page.fill("#credit_limit", "50 000")
    page.fill("#contract_number", "П-2026-7001")
    page.fill("#contract_date", date.today().isoformat())
    page.fill("#deferral_days", "21")
    page.click("text=Сохранить условия")
    assert "Условия сохранены" in page.inner_text("main")
    page.snap("terms-saved")

    today = date.today()
    sku = None
    for candidate in ("A00007", "A00009", "A00011", "A00013", "A00015", "A00017"):
        page.goto(live_server.url + "/backoffice/promotions")
        page.fill("#title", "Зимняя акция")
        page.fill("#item_sku", candidate)
        page.fill("#discount_percent", "20")
        page.fill("#starts_on", today.isoformat())
        page.fill("#ends_on", (today + timedelta(days=7)).isoformat())
        page.click("text=Сохранить акцию")
        if "Акция сохранена" in page.inner_text("main"):
            sku = candidate
            break
        assert "уже действует" in page.inner_text("#starts_on-errors")  # a demo promotion
    assert sku is not None
    page.snap("promotion-saved")
    # the same item, an overlapping period: refused next to the dates
    page.fill("#title", "Вторая акция")
    page.fill("#item_sku", sku)
    page.fill("#discount_percent", "101")
    page.fill("#starts_on", (today + timedelta(days=3)).isoformat())
    page.fill("#ends_on", (today + timedelta(days=9)).isoformat())
    page.click("text=Сохранить акцию")
    assert "меньше 100" in page.inner_text("#discount_percent-errors")
    page.fill("#discount_percent", "15")
    page.click("text=Сохранить акцию")
    assert "уже действует" in page.inner_text("#starts_on-errors")
    page.snap("promotion-overlap-refused")

    # the item's terms edited by hand, with its history
    page.goto(live_server.url + f"/backoffice/catalog/items?q={sku}")
    page.locator("main a[href*='/backoffice/catalog/items/']").first.click()
    page.fill("#description", "Обезболивающее; отпуск без рецепта.")
    page.click("text=Сохранить товар")
    assert "Товар сохранён" in page.inner_text("main")
    assert "Обезболивающее" in page.inner_text("[data-testid=item-history]")
    page.snap("item-history")

    # the organisation's audit log, in words
    page.goto(live_server.url + "/backoffice/organisations")
    page.locator("a", has_text=f"Аптека Условия {login}").first.click()
    page.click("main >> text=Журнал аудита")
    log = page.inner_text("[data-testid=audit]")
    assert "Коммерческие условия изменены" in log and "Скидка: 0\u00a0% → 10\u00a0%" in log
    for raw in ("[", "{", "LocalProxy", "_id"):
        assert raw not in log, raw
    page.snap("audit-log")

    context = playwright_browser.new_context(viewport=page.viewport_size, locale="ru-RU")
    buyer = context.new_page()
    buyer.goto(live_server.url + "/login")
    buyer.fill("#login", login)
    buyer.fill("#password", code)
    buyer.click("input[type=submit]")
    buyer.fill("#password", NEW_PASSWORD)
    buyer.fill("#confirm", NEW_PASSWORD)
    buyer.click("main form [type=submit]")
    for _ in range(2):  # the offer and the consent to personal data processing
        if "/offer" in buyer.url or "/privacy/consent" in buyer.url:
            buyer.check("#accept")
            buyer.click("main form [type=submit]")
    buyer.goto(live_server.url + f"/catalog/?q={sku}")
    buyer.locator("main a[href*='/catalog/items/']").first.click()
    card = buyer.inner_text("main")
    assert "Зимняя акция" in card and "−" in card
    listed = buyer.inner_text("main del")
    price = buyer.inner_text("[data-testid=price]")

    def rub(text):
        return float(re.sub(r"[^\d,]", "", text).replace(",", "."))

    assert abs(rub(price) - round(rub(listed) * 0.8, 2)) < 0.011  # 20 % off the 10 % price
    buyer.screenshot(path=str(_artifact(page, "buyer-sees-promotion")), full_page=True)
    context.close()


def _artifact(page, name):
    from tests.e2e.conftest import ARTIFACTS

    folder = ARTIFACTS / "commercial-terms"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{page.viewport_name}-{name}.png"
