"""The order-confirmation e-mail, delivered through a real SMTP server (aiosmtpd) and read
back as the buyer sees it: number, lines, totals by VAT rate, delivery date, payment terms
and due date, the link to the order; Russian or English by the buyer's language."""

from decimal import Decimal

from sqlalchemy import select

from portal.billing import terms
from portal.extensions import db
from portal.orders.models import Order
from portal.organisations.models import Power
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.orders.test_orders import checkout, fill_cart
from tests.test_mail_smtp import smtp_server  # noqa: F401 - the SMTP server fixture


def plain_and_html(message):
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return plain, html


def place_two_rates(client, organisation, **extra):
    medicine = make_item("Нурофен", sku="M10", price="110.00", vat="reduced", stock=50)
    bandage = make_item("Бинт", sku="G22", price="122.00", vat="general", stock=50)
    fill_cart(client, medicine, 2)
    fill_cart(client, bandage, 3)
    response = checkout(client, organisation, **extra)
    assert response.status_code == 302
    return db.session.scalar(select(Order))


def test_the_buyer_gets_the_order_confirmation_in_russian(
    app,
    login_as,
    buyer,
    pharmacy,
    smtp_server,  # noqa: F811
):
    order = place_two_rates(login_as(buyer), pharmacy)
    (message,) = smtp_server.messages
    assert message["To"] == buyer.email
    assert message["Subject"] == f"Заказ {order.number} оформлен"
    plain, html = plain_and_html(message)
    assert f"Ваш заказ {order.number} для {pharmacy.legal_name} оформлен" in plain
    assert "M10 Нурофен" in plain and "2 уп." in plain and "220,00" in plain
    assert "G22 Бинт" in plain and "3 уп." in plain and "366,00" in plain
    assert order.total == Decimal("586.00")
    assert "Итого с НДС: 586,00\u00a0₽" in plain
    # VAT by rate, line by line as the invoice computes it: 220 × 10/110, 366 × 22/122
    assert "в том числе НДС 10%: 20,00\u00a0₽" in plain
    assert "в том числе НДС 22%: 66,00\u00a0₽" in plain
    assert f"Дата доставки: {order.delivery_date:%d.%m.%Y}" in plain
    due = terms.order_due(order)
    assert "Условия оплаты: Предоплата по счёту." in plain
    assert f"Оплатите счёт до {due:%d.%m.%Y}" in plain
    link = f"http://portal.test/orders/{order.id}"
    assert link in plain and f'href="{link}"' in html
    assert "<table" in html and "Нурофен" in html and "в том числе НДС 22%" in html


def test_deferred_payment_states_the_due_date_after_delivery(
    app,
    login_as,
    buyer,
    pharmacy,
    smtp_server,  # noqa: F811
):
    pharmacy.credit_limit = Decimal("100000.00")
    pharmacy.payment_deferral_days = 14
    db.session.commit()
    order = place_two_rates(login_as(buyer), pharmacy, terms="deferred")
    plain, _html = plain_and_html(smtp_server.messages[0])
    due = terms.deferred_due(order.organisation, order.delivery_date)
    assert "Условия оплаты: Отсрочка платежа." in plain
    assert f"Срок оплаты — до {due:%d.%m.%Y} (14 дн. после доставки)." in plain


def test_an_english_buyer_gets_it_in_english(app, pharmacy, smtp_server):  # noqa: F811
    buyer = make_user(pharmacy, login="anna")
    buyer.language = "en"
    db.session.commit()
    client = app.test_client()
    login(client, buyer)
    order = place_two_rates(client, pharmacy)
    (message,) = smtp_server.messages
    assert message["Subject"] == f"Order {order.number} is placed"
    plain, _html = plain_and_html(message)
    assert "including VAT 22%" in plain and "Payment terms: Prepayment by invoice." in plain
    assert f"http://portal.test/orders/{order.id}" in plain


def test_a_buyer_who_may_not_see_prices_gets_no_prices(app, pharmacy, smtp_server):  # noqa: F811
    buyer = make_user(pharmacy, [Power.ORDER], login="noprices")
    client = app.test_client()
    login(client, buyer)
    order = place_two_rates(client, pharmacy)
    plain, html = plain_and_html(smtp_server.messages[0])
    assert order.number in plain and "Нурофен" in plain
    assert "₽" not in plain and "₽" not in html and "НДС" not in plain


def test_a_repeated_submit_sends_no_second_confirmation(
    login_as,
    buyer,
    pharmacy,
    smtp_server,  # noqa: F811
):
    client = login_as(buyer)
    place_two_rates(client, pharmacy)
    assert checkout(client, pharmacy).status_code == 302  # the same idempotency key
    assert len(smtp_server.messages) == 1
