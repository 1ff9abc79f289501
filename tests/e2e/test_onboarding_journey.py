"""Apply as a partner (refused without the consent, accepted with it) → manager approves → set
password from the e-mail → accept the offer → give the consent for using the portal → log in."""

import itertools

import pytest
from stdnum.ru import inn as inn_number

from tests.e2e.conftest import open_menu_if_collapsed, sign_in

pytestmark = pytest.mark.e2e
_sequence = itertools.count(1)


def fresh_inn():
    body = f"50{next(_sequence):07d}"
    return body + inn_number.calc_company_check_digit(body)


def test_partner_onboarding_end_to_end(page, live_server):
    inn = fresh_inn()
    email = f"director{inn}@pharmacy.example.org"
    page.goto(live_server.url + "/apply")
    page.fill("#representative_name", "Белова Светлана Юрьевна")
    page.fill("#organisation_name", 'ООО "Аптека у дома"')
    page.fill("#email", email)
    page.fill("#phone", "+7 (831) 222-33-44")
    page.fill("#region", "Нижний Новгород")
    page.fill("#inn", inn[:-1] + str((int(inn[-1]) + 1) % 10))  # a typo in the INN first
    page.click("input[type=submit]")
    assert "контрольное число" in page.inner_text("#inn-errors")
    page.snap("apply-wrong-inn")
    page.fill("#inn", inn)
    assert not page.is_checked("#consent")  # never pre-ticked
    page.click("input[type=submit]")
    assert "без вашего согласия" in page.inner_text("#consent-errors").lower()
    page.snap("apply-without-consent")
    consent_text = page.locator("[data-testid=consent-application] a")
    assert consent_text.get_attribute("href").startswith("/privacy/consents/application")
    assert page.locator("form [data-testid=policy-link] a").get_attribute("href") == (
        "/privacy/policy"
    )
    page.check("#consent")
    page.click("input[type=submit]")
    assert "рассмотрени" in page.inner_text("[data-testid=submitted-message]")
    page.snap("applied")

    staff = page.context.browser.new_context(viewport=page.viewport_size).new_page()
    sign_in(staff, live_server, "manager")
    staff.goto(live_server.url + "/backoffice/onboarding/applications?status=new")
    staff.locator("tr", has_text=inn).locator("a").first.click()
    staff.fill("#legal_address", "603000, Нижний Новгород, ул. Большая Покровская, д. 1")
    staff.fill("#delivery_address", "603000, Нижний Новгород, ул. Большая Покровская, д. 1")
    staff.fill("#admin_login", f"belova{inn[-4:]}")
    staff.click("text=Одобрить и создать организацию")
    assert "Одобрена" in staff.inner_text("[data-testid=status]")
    staff.context.close()

    (approval,) = [m for m in live_server.messages_to(email) if "одобрена" in m["Subject"]]
    (link,) = live_server.links_in(approval)
    page.goto(link)
    page.fill("#password", "Svetlana-Apteka-2026")
    page.fill("#confirm", "Svetlana-Apteka-2026")
    page.snap("set-password")
    page.click("input[type=submit]")
    page.fill("#login", f"belova{inn[-4:]}")
    page.fill("#password", "Svetlana-Apteka-2026")
    page.click("input[type=submit]")
    assert "/offer" in page.url
    page.snap("offer")
    page.check("#accept")
    page.click("input[type=submit]")
    assert "/privacy/consent" in page.url  # the consent is its own page, after the offer
    assert "пользования личным кабинетом" in page.inner_text("h1")
    assert not page.is_checked("#promotions")  # the opt-in is offered, never required
    page.snap("consent")
    page.check("#accept")
    page.click("input[type=submit]")
    assert "Добро пожаловать" in page.inner_text("main")
    page.snap("dashboard")
    open_menu_if_collapsed(page)
    page.click(".user-menu")
    page.click(".dropdown-menu.show >> text=Пользователи")
    assert "Пользователи организации" in page.inner_text("main")
    page.snap("users")
