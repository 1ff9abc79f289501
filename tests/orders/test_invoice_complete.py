"""The complete «Счёт на оплату»: every element of the form, the due date by the Russian
production calendar, and the supply contract the invoice names as its basis."""

import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import calendar_ru
from portal.audit import AuditEvent
from portal.extensions import db
from portal.orders.models import Order
from portal.organisations import contracts
from portal.organisations.models import Organisation
from tests.catalog.builders import make_item
from tests.factories import login, make_organisation, make_user, valid_inn
from tests.orders.test_orders import checkout, fill_cart

INN_3 = valid_inn(990003)
needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext")


def pdf_text(data: bytes, tmp_path, name="invoice.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    return out.stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def ordered_at(order, moment: datetime) -> None:
    order.created_at = moment
    db.session.commit()


def mixed_order(client, organisation, terms="prepayment", key="k" * 24):
    """110.00 × 2 at 10 % and 120.00 × 1 at 22 %: 340.00, VAT 20.00 + 21.64."""
    fill_cart(client, make_item("Нурофен", price="110.00", vat="reduced", sku="NUR-200"), 2)
    fill_cart(client, make_item("Пластырь", price="120.00", vat="general", sku="PL-10"), 1)
    checkout(client, organisation, key=key, terms=terms)
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


@pytest.fixture
def contracted(pharmacy):
    pharmacy.supply_contract_number = "П-2026-0042"
    pharmacy.supply_contract_date = date(2026, 1, 15)
    pharmacy.kpp = "770101001"
    pharmacy.legal_address = "125009, г. Москва, ул. Тверская, д. 7"
    pharmacy.phone = "+74951112233"
    pharmacy.credit_limit = 100000
    db.session.commit()
    return pharmacy


# --- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 8), False),  # New Year holidays
        (date(2026, 1, 9), False),  # Saturday 3 January moved here (decree № 1466)
        (date(2026, 1, 12), True),
        (date(2026, 2, 23), False),
        (date(2026, 3, 9), False),  # 8 March is a Sunday
        (date(2026, 4, 30), True),
        (date(2026, 5, 1), False),
        (date(2026, 5, 4), True),
        (date(2026, 5, 11), False),  # 9 May is a Saturday
        (date(2026, 6, 12), False),
        (date(2026, 11, 4), False),
        (date(2026, 12, 31), False),  # Sunday 4 January moved here
        (date(2026, 12, 30), True),
        (date(2025, 11, 1), True),  # a working Saturday in 2025
        (date(2025, 5, 2), False),
        (date(2025, 12, 31), False),
        (date(2027, 2, 20), True),  # a working Saturday in 2027
        (date(2027, 2, 22), False),
        (date(2027, 5, 3), False),
        (date(2027, 6, 14), False),
        (date(2027, 11, 5), False),
        (date(2026, 12, 5), False),  # an ordinary Saturday
    ],
)
def test_the_calendar_knows_the_production_calendar(day, working):
    assert calendar_ru.is_working_day(day) is working


def test_adding_working_days_skips_weekends_and_holidays():
    assert calendar_ru.add_working_days(date(2026, 4, 30), 3) == date(2026, 5, 6)
    assert calendar_ru.add_working_days(date(2026, 12, 30), 1) == date(2027, 1, 11)
    assert calendar_ru.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert calendar_ru.add_working_days(date(2025, 10, 31), 1) == date(2025, 11, 1)
    assert calendar_ru.add_working_days(date(2026, 5, 6), -3) == date(2026, 4, 30)
    assert calendar_ru.add_working_days(date(2026, 5, 9), 0) == date(2026, 5, 12)
    assert calendar_ru.working_days_between(date(2026, 1, 1), date(2026, 1, 31)) == 15


# --- every element of the form -----------------------------------------------------------------


@needs_pdftotext
def test_the_invoice_has_every_element_of_the_form(app, login_as, buyer, contracted, tmp_path):
    client = login_as(buyer)
    order = mixed_order(client, contracted)
    ordered_at(order, datetime(2026, 4, 30, 9, 0, tzinfo=UTC))  # Thursday, 12:00 in Moscow
    response = client.get(f"/orders/{order.id}/invoice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    words = flat(text)
    supplier = app.config["SUPPLIER"]
    for requisite in ("bank", "bik", "corr_account", "account", "inn", "kpp", "name"):
        assert supplier[requisite] in words, requisite
    assert "Банк получателя" in words and "Получатель" in words and "БИК" in words
    assert f"Счёт на оплату № {order.number} от 30 апреля 2026 г." in words
    assert (
        f"Поставщик (Исполнитель): {supplier['name']}, ИНН {supplier['inn']}, КПП {supplier['kpp']}"
    ) in words.replace("Поставщик (Исполнитель):", "Поставщик (Исполнитель):")
    assert supplier["address"] in words and supplier["phone"] in words
    assert "Покупатель (Заказчик):" in words
    assert f"ИНН {contracted.inn}, КПП 770101001, 125009, г. Москва, ул. Тверская, д. 7" in words
    assert "+7 495 111-22-33" in words
    assert f"Основание: Договор поставки № П-2026-0042 от 15.01.2026, заказ № {order.number}" in (
        words
    )
    assert "Товары (работы, услуги)" in words and "Ставка НДС" in words
    lines = [line for line in text.splitlines() if "NUR-200" in line or "PL-10" in line]
    assert len(lines) == 2
    assert flat(lines[0]).split()[0] == "1" and "Нурофен" in lines[0]
    assert "упак" in lines[0] and "110,00" in lines[0] and "10 %" in lines[0]
    assert "220,00" in lines[0]
    assert "Пластырь" in lines[1] and "22 %" in lines[1] and "120,00" in lines[1]
    assert "Итого: 340,00" in words
    assert "В том числе НДС 10%: 20,00" in words
    assert "В том числе НДС 22%: 21,64" in words
    assert "Всего к оплате: 340,00" in words
    assert "Всего наименований 2, на сумму 340,00 руб." in words
    assert "Триста сорок рублей 00 копеек" in words
    assert "Руководитель" in words and "Бухгалтер" in words
    for key in ("director_position", "director_name", "accountant_position", "accountant_name"):
        assert supplier[key] in words, key
    # 1–3 May are days off and 4 May is Monday: three banking days after 30 April end on 6 May.
    assert "Оплатить не позднее 06.05.2026" in words
    assert "Оплата данного счёта означает согласие с условиями поставки" in words
    assert "Товар отпускается по факту прихода денег" in words


@needs_pdftotext
def test_a_deferred_order_is_due_after_the_contract_deferral_without_the_prepayment_wording(
    app, login_as, buyer, contracted, tmp_path
):
    contracted.payment_deferral_days = 21
    db.session.commit()
    client = login_as(buyer)
    order = mixed_order(client, contracted, terms="deferred")
    order.delivery_date = date(2026, 4, 10)
    ordered_at(order, datetime(2026, 4, 8, 9, 0, tzinfo=UTC))
    words = flat(pdf_text(client.get(f"/orders/{order.id}/invoice.pdf").data, tmp_path))
    # 10 April + 21 days = 1 May, a holiday; 2–3 May are the weekend: due Monday 4 May.
    assert "Оплатить не позднее 04.05.2026" in words
    assert "отсрочка платежа 21 календарный день" in words
    assert "по договору поставки № П-2026-0042 от 15.01.2026" in words
    assert "Оплата данного счёта означает согласие" not in words
    assert "Товар отпускается по факту прихода денег" not in words


@needs_pdftotext
def test_the_default_deferral_applies_when_the_contract_names_none(
    app, login_as, buyer, contracted, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "DEFERRED_PAYMENT_DAYS", 14)
    client = login_as(buyer)
    order = mixed_order(client, contracted, terms="deferred")
    order.delivery_date = date(2026, 12, 17)
    ordered_at(order, datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    words = flat(pdf_text(client.get(f"/orders/{order.id}/invoice.pdf").data, tmp_path))
    # 17 December + 14 = 31 December, a transferred day off; 1–10 January off: 11 January.
    assert "Оплатить не позднее 11.01.2027" in words
    assert "отсрочка платежа 14 календарных дней" in words


@needs_pdftotext
def test_the_prepayment_banking_days_come_from_the_config(
    app, login_as, buyer, contracted, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "PREPAYMENT_BANKING_DAYS", 5)
    client = login_as(buyer)
    order = mixed_order(client, contracted)
    # 22:30 UTC on 30 April is 1:30 on 1 May in Moscow: the invoice is dated 1 May.
    ordered_at(order, datetime(2026, 4, 30, 22, 30, tzinfo=UTC))
    words = flat(pdf_text(client.get(f"/orders/{order.id}/invoice.pdf").data, tmp_path))
    assert "от 1 мая 2026 г." in words
    assert "Оплатить не позднее 08.05.2026 (5 банковских дней" in words


def test_a_missing_supplier_requisite_refuses_the_invoice_naming_the_field(
    app, login_as, buyer, contracted, monkeypatch
):
    client = login_as(buyer)
    order = mixed_order(client, contracted)
    supplier = app.config["SUPPLIER"]
    monkeypatch.setitem(app.config, "SUPPLIER", {**supplier, "bik": "  "})
    response = client.get(f"/orders/{order.id}/invoice.pdf")
    assert response.status_code == 302 and response.mimetype != "application/pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Счёт не может быть сформирован" in page and "БИК" in page
    monkeypatch.setitem(app.config, "SUPPLIER", {**supplier, "account": "4070"})
    page = client.get(f"/orders/{order.id}/invoice.pdf", follow_redirects=True)
    assert "расчётный счёт" in page.get_data(as_text=True)


# --- the supply contract -----------------------------------------------------------------------


def contract_url(organisation):
    return f"/backoffice/organisations/{organisation.id}/contract"


def test_the_curator_edits_the_contract_and_the_change_is_audited(app, contracted, tax_day):
    tax_day(date(2026, 12, 3))
    curator = make_user(staff_role="manager")
    contracted.manager_id = curator.id
    db.session.commit()
    client = app.test_client()
    login(client, curator)
    page = client.get(f"/backoffice/organisations/{contracted.id}").get_data(as_text=True)
    assert "П-2026-0042" in page and 'name="contract_number"' in page
    response = client.post(
        contract_url(contracted),
        data={"contract_number": " 17/Ф ", "contract_date": "2026-12-01", "deferral_days": "45"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert contracted.supply_contract_number == "17/Ф"
    assert contracted.supply_contract_date == date(2026, 12, 1)
    assert contracted.payment_deferral_days == 45
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "organisation.supply_contract_changed")
    )
    assert event.actor_id == curator.id and event.organisation_id == contracted.id
    assert event.details["before"] == {
        "number": "П-2026-0042",
        "date": "2026-01-15",
        "deferral_days": None,
    }
    assert event.details["after"] == {"number": "17/Ф", "date": "2026-12-01", "deferral_days": 45}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"contract_number": "", "contract_date": "2026-01-10"}, "contract_number", "Укажите"),
        ({"contract_number": "   ", "contract_date": "2026-01-10"}, "contract_number", "Укажите"),
        ({"contract_number": "Д" * 41, "contract_date": "2026-01-10"}, "contract_number", "40"),
        ({"contract_number": "17", "contract_date": "1999-12-31"}, "contract_date", "01.01.2000"),
        ({"contract_number": "17", "contract_date": "2027-01-04"}, "contract_date", "03.01.2027"),
        ({"contract_number": "17", "contract_date": "31.02.2026"}, "contract_date", "дат"),
        ({"contract_number": "17", "contract_date": ""}, "contract_date", "Укажите"),
        (
            {"contract_number": "17", "contract_date": "2026-01-10", "deferral_days": "400"},
            "deferral_days",
            "365",
        ),
    ],
)
def test_a_bad_contract_is_refused_next_to_the_field_and_nothing_is_saved(
    app, contracted, tax_day, data, field, message
):
    tax_day(date(2026, 12, 3))
    curator = make_user(staff_role="manager")
    contracted.manager_id = curator.id
    db.session.commit()
    client = app.test_client()
    login(client, curator)
    response = client.post(contract_url(contracted), data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page.split(f'id="{field}-errors"', 1)
    assert len(errors) == 2, f"no message next to {field}"
    assert message in errors[1].split("</div>", 1)[0]
    db.session.expire_all()
    assert contracted.supply_contract_number == "П-2026-0042"
    assert contracted.supply_contract_date == date(2026, 1, 15)
    assert contracted.payment_deferral_days is None
    assert not db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "organisation.supply_contract_changed")
    )


def test_a_manager_of_another_organisation_cannot_change_the_contract(app, contracted, tax_day):
    tax_day(date(2026, 12, 3))
    curator = make_user(staff_role="manager")
    contracted.manager_id = curator.id
    db.session.commit()
    stranger = app.test_client()
    login(stranger, make_user(staff_role="manager"))
    data = {"contract_number": "ЧУЖОЙ-1", "contract_date": "2026-11-01"}
    assert stranger.post(contract_url(contracted), data=data).status_code == 403
    customer = app.test_client()
    login(customer, make_user(make_organisation(), staff_role=None))
    assert customer.post(contract_url(contracted), data=data).status_code == 403
    db.session.expire_all()
    assert contracted.supply_contract_number == "П-2026-0042"
    refused = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "access.curator_refused")
    )
    assert refused is not None and refused.organisation_id == contracted.id


def test_a_stranger_organisations_invoice_is_not_found(
    app, login_as, buyer, contracted, other_pharmacy
):
    order = mixed_order(login_as(buyer), contracted)
    outsider = app.test_client()
    login(outsider, make_user(other_pharmacy))
    assert outsider.get(f"/orders/{order.id}/invoice.pdf").status_code == 404


def test_approval_sets_the_contract_or_generates_the_number(app, manager, tax_day):
    from portal.onboarding import services

    tax_day(date(2026, 12, 3))
    make_organisation(supply_contract_number="П-2026-0007", supply_contract_date=date(2026, 3, 1))

    def approve(inn, contract):
        with app.test_request_context():
            return _approve(inn, contract)

    def _approve(inn, contract):
        application = services.submit_application(
            {
                "representative_name": "Иванова Анна",
                "organisation_name": "Аптека",
                "email": f"a{inn}@apteka.example",
                "phone": "+74951234567",
                "region": "Москва",
                "kind": "pharmacy",
                "inn": inn,
                "ogrn": None,
                "licence_number": None,
                "comment": None,
            },
            ip=None,
            consent_version=1,  # the applicant ticked the consent shown (version 1)
        )
        return services.approve_application(
            application,
            {
                "legal_name": "ООО «Аптека»",
                "kind": "pharmacy",
                "legal_address": "г. Москва",
                "delivery_address": "г. Москва",
                "region": "Москва",
            },
            None,
            manager,
            contract,
        )

    given = approve(valid_inn(990001), {"number": "15-А", "contract_date": date(2026, 11, 20)})
    generated = approve(valid_inn(990002), {"number": "", "contract_date": None})
    db.session.commit()
    assert (given.supply_contract_number, given.supply_contract_date) == (
        "15-А",
        date(2026, 11, 20),
    )
    assert generated.supply_contract_number == "П-2026-0008"
    assert generated.supply_contract_date == date(2026, 12, 3)
    assert contracts.deferral_days(generated) == app.config["DEFERRED_PAYMENT_DAYS"]
    assert db.session.scalar(select(Organisation).where(Organisation.id == generated.id))


def test_the_approval_form_refuses_a_bad_contract_date_next_to_the_field(
    app, manager, tax_day, client
):
    from portal.onboarding import services

    tax_day(date(2026, 12, 3))
    with app.test_request_context():
        application = services.submit_application(
            {
                "representative_name": "Петров Пётр",
                "organisation_name": "Аптека",
                "email": "p@apteka.example",
                "phone": "+74951234567",
                "region": "Москва",
                "kind": "pharmacy",
                "inn": INN_3,
                "ogrn": None,
                "licence_number": None,
                "comment": None,
            },
            ip=None,
            consent_version=1,  # the applicant ticked the consent shown (version 1)
        )
    db.session.commit()
    login(client, manager)
    response = client.post(
        f"/backoffice/onboarding/applications/{application.id}/approve",
        data={
            "legal_name": "ООО «Аптека»",
            "kind": "pharmacy",
            "legal_address": "г. Москва",
            "delivery_address": "г. Москва",
            "region": "Москва",
            "contract_number": "1",
            "contract_date": (date(2026, 12, 3) + timedelta(days=40)).isoformat(),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page.split('id="contract_date-errors"', 1)
    assert len(errors) == 2 and "03.01.2027" in errors[1].split("</div>", 1)[0]
    assert db.session.scalar(select(Organisation.id).where(Organisation.inn == INN_3)) is None


@needs_pdftotext
def test_a_shipped_deferred_order_is_due_from_the_shipment_date(
    app, login_as, buyer, contracted, manager, tax_day, tmp_path
):
    from tests.billing.test_vat import ship

    tax_day(date(2026, 6, 1))
    contracted.payment_deferral_days = 11
    db.session.commit()
    client = login_as(buyer)
    order = mixed_order(client, contracted, terms="deferred")
    ship(app, manager, order)
    words = flat(pdf_text(client.get(f"/orders/{order.id}/invoice.pdf").data, tmp_path))
    # Shipped 1 June + 11 days = 12 June (Russia Day), then the weekend: due Monday 15 June.
    assert "с даты отгрузки 01.06.2026" in words
    assert "Оплатить не позднее 15.06.2026" in words
    assert "УПД №" in words
