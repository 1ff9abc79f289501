"""Credit hold: staff stop new deferred-payment orders of a customer with overdue debt above a
threshold (audited with the reason); prepayment orders stay open; lifting it opens them."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.billing.models import CreditHold
from portal.extensions import db
from portal.money import format_rub
from portal.orders.models import CartLine, Order
from tests.billing.receivable_builders import TODAY, charge
from tests.catalog.builders import make_item
from tests.factories import login, make_user
from tests.html import shown
from tests.orders.test_orders import checkout, fill_cart


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def overdue_customer(pharmacy, manager):
    pharmacy.manager_id = manager.id
    pharmacy.credit_limit = Decimal("100000.00")
    charge(pharmacy, "1500.00", date(2026, 6, 1), "УПД-77")  # due at once: 14 days overdue
    db.session.commit()


def hold(client, organisation, threshold="0", reason="Просрочка по УПД-77"):
    return client.post(
        f"/backoffice/billing/receivables/{organisation.id}/hold",
        data={"threshold": threshold, "reason": reason},
    )


def test_a_held_customer_cannot_place_a_deferred_order_and_nothing_is_saved(
    app, login_as, buyer, pharmacy, manager, tax_day
):
    tax_day(TODAY)
    overdue_customer(pharmacy, manager)
    staff = app.test_client()
    login(staff, manager)
    assert hold(staff, pharmacy, threshold="1000.00").status_code == 302
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "billing.credit_hold_set")
    ).all()
    assert event.actor_id == manager.id and event.organisation_id == pharmacy.id
    assert event.details["reason"] == "Просрочка по УПД-77"
    assert event.details["threshold"] == "1000.00"

    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 2)
    # The checkout page says so before the buyer submits.
    assert "Отсрочка платежа приостановлена" in client.get("/checkout").get_data(as_text=True)
    response = checkout(client, pharmacy, terms="deferred")
    page = response.get_data(as_text=True)
    assert "Отсрочка платежа приостановлена" in page and format_rub("1500.00") in page
    assert count(Order) == 0 and count(CartLine) == 1  # nothing saved, the cart kept

    # Prepayment is still accepted.
    assert checkout(client, pharmacy, terms="prepayment").status_code == 302
    assert count(Order) == 1


def test_lifting_the_hold_allows_deferred_orders_again_and_is_audited(
    app, login_as, buyer, pharmacy, manager, tax_day
):
    tax_day(TODAY)
    overdue_customer(pharmacy, manager)
    staff = app.test_client()
    login(staff, manager)
    hold(staff, pharmacy)
    response = staff.post(
        f"/backoffice/billing/receivables/{pharmacy.id}/hold/clear",
        data={"clear_reason": "Оплата обещана письмом"},
    )
    assert response.status_code == 302 and count(CreditHold) == 0
    cleared = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "billing.credit_hold_cleared")
    )
    assert cleared.details["reason"] == "Оплата обещана письмом"

    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 2)
    page = shown(client.get("/checkout"))
    assert "Нурофен" in page and "приостановлена" not in page  # the checkout, not on hold
    assert checkout(client, pharmacy, terms="deferred").status_code == 302
    assert count(Order) == 1


def test_overdue_debt_within_the_threshold_does_not_stop_orders(
    app, login_as, buyer, pharmacy, manager, tax_day
):
    tax_day(TODAY)
    overdue_customer(pharmacy, manager)
    staff = app.test_client()
    login(staff, manager)
    hold(staff, pharmacy, threshold="1500.00")  # 1 500,00 overdue: not above the threshold
    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 2)
    assert checkout(client, pharmacy, terms="deferred").status_code == 302


def test_a_bad_threshold_or_no_reason_is_refused_and_changes_nothing(
    app, pharmacy, manager, tax_day
):
    tax_day(TODAY)
    overdue_customer(pharmacy, manager)
    staff = app.test_client()
    login(staff, manager)
    negative = hold(staff, pharmacy, threshold="-5")
    assert negative.status_code == 422
    assert "Порог не может быть отрицательным" in negative.get_data(as_text=True)
    words = hold(staff, pharmacy, threshold="много")
    assert words.status_code == 422 and "Введите сумму числом" in words.get_data(as_text=True)
    no_reason = hold(staff, pharmacy, reason="  ")
    assert no_reason.status_code == 422 and "Укажите причину" in no_reason.get_data(as_text=True)
    assert count(CreditHold) == 0
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.like("billing.credit_hold%"))
        )
        == 0
    )
    # Lifting a hold that is not there is refused with a message too.
    page = staff.post(
        f"/backoffice/billing/receivables/{pharmacy.id}/hold/clear", data={"clear_reason": "x"}
    )
    assert page.status_code == 422 and "не стоит на кредитном стопе" in page.get_data(as_text=True)


def test_another_managers_customer_cannot_be_held(app, pharmacy, manager):
    pharmacy.manager_id = make_user(staff_role="manager").id
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    assert hold(staff, pharmacy).status_code == 403
    assert count(CreditHold) == 0
