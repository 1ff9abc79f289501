"""A gas customer sends the annual request for next year, the manager agrees it with one month
changed, the customer sees the agreed plan and this year's plan against actual."""

from datetime import date

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

CONTRACT = "ГП-52-0342/24"  # the demo plant's contract without a plan yet


def test_annual_plan_agreed_by_the_manager_then_plan_against_actual(
    playwright_browser, page, live_server
):
    next_year = date.today().year + 1
    sign_in(page, live_server, "gas")
    page.goto(live_server.url + "/metering/plans")
    page.click(f"text={CONTRACT}")
    form = page.locator("[data-testid=annual-form]")
    form.locator("select[name=year]").select_option(str(next_year))
    form.locator("input[name=month_1]").fill("-10")  # refused next to the field, nothing sent
    for month in range(2, 13):
        form.locator(f"input[name=month_{month}]").fill("2500")
    form.locator("button[type=submit]").click()
    assert "Объём не может быть отрицательным" in page.inner_text("#month_1-errors")
    page.snap("annual-refused")
    page.locator("[data-testid=annual-form] input[name=month_1]").fill("3000")
    page.locator("[data-testid=annual-form] button[type=submit]").click()
    assert "Годовая заявка отправлена менеджеру" in page.inner_text("main")
    first_status = page.locator("[data-testid=plan-requests] [data-testid=request-status]").first
    assert first_status.inner_text() == "Ожидает менеджера"
    page.snap("annual-sent")

    staff = playwright_browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    manager = staff.new_page()
    sign_in(manager, live_server, "manager")
    manager.goto(live_server.url + "/backoffice/metering/plans")
    row = manager.locator("[data-testid=pending-requests] tbody tr", has_text=CONTRACT).last
    row.locator("a", has_text="Решить").click()
    manager.locator("input[name^=volume-]").nth(6).fill("2000")  # July
    manager.check("input[name=decision][value=change]")
    manager.fill("textarea[name=comment]", "Июль: плановый ремонт")
    manager.click("text=Сохранить решение")
    assert "Решение сохранено" in manager.inner_text("main")
    shots = ARTIFACTS / "staff-plan-decision"
    shots.mkdir(parents=True, exist_ok=True)
    manager.screenshot(path=str(shots / f"{page.viewport_name}.png"), full_page=True)
    staff.close()

    page.goto(page.url.split("?")[0] + f"?year={next_year}")
    plan = page.locator("[data-testid=agreed-plan]").inner_text()
    assert "3\u00a0000" in plan and "2\u00a0000" in plan
    status = page.locator("[data-testid=plan-requests] [data-testid=request-status]").first
    assert status.inner_text() == "Согласована с изменениями"
    page.snap("plan-agreed")
    page.click("text=План и факт")
    page.goto(page.url.split("?")[0])  # this year's figures
    table = page.locator("[data-testid=plan-actual]")
    assert table.locator("tbody tr").count() == 12
    page.snap("plan-against-actual")
    page.goto(live_server.url + "/metering/plans")
    page.click("text=ГП-52-0117/23")
    page.click("text=План и факт")
    cells = page.locator("[data-testid=plan-actual] tbody tr").first.locator("td")
    assert cells.nth(1).inner_text() != "—"  # the demo plan for this year, January
    page.snap("demo-plan-against-actual")
