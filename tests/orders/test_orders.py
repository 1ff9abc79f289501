import io
import shutil
import subprocess
import threading
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.billing import ledger
from portal.extensions import db
from portal.orders import workflow
from portal.orders.models import CartLine, Order, OrderLine, OrderStatus
from portal.organisations.models import Power
from portal.tickets.models import Ticket
from tests.catalog.builders import make_item, stock_of
from tests.factories import login, make_user
from tests.html import shown

KEY = "k" * 24


def fill_cart(client, item, quantity):
    client.post("/cart/add", data={"item_id": item.id, "quantity": quantity})


def checkout(client, organisation, key=KEY, terms="prepayment", **extra):
    return client.post(
        "/checkout",
        data={
            "address_id": organisation.addresses[0].id,
            "payment_terms": terms,
            "comment": "Позвонить заранее",
            "idempotency_key": key,
            **extra,
        },
    )


def orders_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Order.id)))


def test_checkout_reserves_stock_and_a_double_submit_makes_one_order(login_as, buyer, pharmacy):
    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 4)
    page = client.get("/checkout").get_data(as_text=True)
    assert 'name="idempotency_key"' in page and "Склад Москва" in page
    first = checkout(client, pharmacy)
    second = checkout(client, pharmacy)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert orders_count() == 1
    order = db.session.scalar(select(Order))
    assert order.number and order.total == Decimal("400.00") and order.comment
    assert order.lines[0].quantity == 4
    assert stock_of(item) == 6
    assert db.session.scalar(select(func.count(CartLine.id))) == 0
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert order.number in page and "Новый" in page


def test_checkout_refuses_when_stock_ran_out_and_keeps_everything(login_as, buyer, pharmacy):
    item = make_item("Нурофен", stock=5)
    client = login_as(buyer)
    fill_cart(client, item, 5)
    from portal.inventory.stock import reserve_stock

    assert reserve_stock(item.stock[0].warehouse_id, item.id, 3)  # someone else bought 3
    db.session.commit()
    page = checkout(client, pharmacy).get_data(as_text=True)
    assert "В наличии только 2 уп." in page or "недостаточно" in page
    assert orders_count() == 0 and stock_of(item) == 2
    assert db.session.scalar(select(CartLine.quantity)) == 5


def test_deferred_payment_only_within_credit_limit(login_as, buyer, pharmacy):
    item = make_item("Нурофен", price="1000.00", stock=100)
    pharmacy.credit_limit = Decimal("5000.00")
    db.session.commit()
    ledger.post_charge(pharmacy.id, "2500.00", entry_date=date.today(), description="Долг")
    db.session.commit()
    client = login_as(buyer)
    fill_cart(client, item, 3)
    page = checkout(client, pharmacy, terms="deferred").get_data(as_text=True)
    assert "превышает доступный лимит отсрочки" in page and "2" in page
    assert orders_count() == 0 and stock_of(item) == 100
    assert checkout(client, pharmacy, terms="prepayment").status_code == 302
    assert orders_count() == 1


def test_foreign_address_and_empty_cart_are_refused(login_as, buyer, pharmacy, other_pharmacy):
    item = make_item("Нурофен")
    client = login_as(buyer)
    fill_cart(client, item, 1)
    page = checkout(client, other_pharmacy).get_data(as_text=True)
    assert "Выберите один из ваших адресов доставки." in page
    assert orders_count() == 0


def place(client, organisation, item, quantity=2, key=KEY):
    fill_cart(client, item, quantity)
    checkout(client, organisation, key=key)
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


def test_cancel_while_new_releases_stock_and_not_after_confirmation(
    app, login_as, buyer, pharmacy, manager
):
    item = make_item("Нурофен", stock=10)
    client = login_as(buyer)
    order = place(client, pharmacy, item, 3)
    assert stock_of(item) == 7
    client.post(f"/orders/{order.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert stock_of(item) == 10
    second = place(client, pharmacy, item, 2, key="m" * 24)
    staff = app.test_client()
    login(staff, manager)
    staff.post(f"/backoffice/orders/{second.id}/status", data={"status": "confirmed"})
    page = client.post(f"/orders/{second.id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "Отменить можно только новый заказ" in page
    assert stock_of(item) == 8


def test_staff_move_the_order_mail_ledger_and_audit(
    app, login_as, buyer, pharmacy, manager, outbox
):
    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    order = place(client, pharmacy, item, 4)
    staff = app.test_client()
    login(staff, manager)
    bad = staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    assert bad.status_code == 422 and "нельзя перевести" in bad.get_data(as_text=True)
    for status in ("confirmed", "assembling"):
        staff.post(f"/backoffice/orders/{order.id}/status", data={"status": status, "note": "ok"})
    line = order.lines[0]
    staff.post(f"/backoffice/orders/{order.id}/shipped", data={f"shipped-{line.id}": "3"})
    staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    db.session.expire_all()
    assert ledger.balance(pharmacy.id) == Decimal("300.00")
    entry = ledger.entries(pharmacy.id)[0]
    assert (entry.source_type, entry.source_id) == ("order", order.id)
    assert stock_of(item) == 7  # the unshipped pack went back on the shelf
    messages = outbox.to(buyer.email)  # the confirmation, then confirmed, assembling, shipped
    assert len(messages) == 4 and "Отгружен" in messages[-1]["Subject"]
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("orders.status_changed") == 3 and "orders.shipped_quantities" in actions
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Подтверждён" in page and "Собирается" in page and manager.full_name in page


def test_no_status_mail_when_the_buyer_turned_it_off(
    app, login_as, buyer, pharmacy, manager, outbox
):
    buyer.notify_order_status = False
    db.session.commit()
    order = place(login_as(buyer), pharmacy, make_item("Нурофен"))
    staff = app.test_client()
    login(staff, manager)
    staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "confirmed"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED
    # Only the receipt of the order the buyer placed; no status mail.
    (confirmation,) = outbox.to(buyer.email)
    assert confirmation["Subject"] == f"Заказ {order.number} оформлен"


def test_staff_list_filters_and_note(app, login_as, buyer, pharmacy, manager):
    order = place(login_as(buyer), pharmacy, make_item("Нурофен"))
    staff = app.test_client()
    login(staff, manager)
    assert order.number in staff.get("/backoffice/orders?status=new").get_data(as_text=True)
    assert order.number not in staff.get("/backoffice/orders?status=shipped").get_data(as_text=True)
    staff.post(f"/backoffice/orders/{order.id}/note", data={"staff_note": "Клиент просит утро"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).staff_note == "Клиент просит утро"
    assert "1" in staff.get("/backoffice/").get_data(as_text=True)


def test_reorder_puts_the_lines_back_into_the_cart(login_as, buyer, pharmacy):
    item = make_item("Нурофен", stock=10)
    client = login_as(buyer)
    order = place(client, pharmacy, item, 2)
    client.post(f"/orders/{order.id}/reorder")
    assert db.session.scalar(select(CartLine.quantity)) == 2


def test_invoice_pdf_has_requisites_vat_and_words(
    app, login_as, buyer, pharmacy, tmp_path, tax_day
):
    tax_day(date(2026, 3, 2))
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed")
    plaster = make_item("Пластырь", price="120.00", vat="general")
    client = login_as(buyer)
    fill_cart(client, make_item("Нурофен", price="110.00", vat="reduced"), 1)
    order = place(client, pharmacy, plaster, 1)
    response = client.get(f"/orders/{order.id}/invoice.pdf")
    assert response.mimetype == "application/pdf"
    path = tmp_path / "invoice.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert f"Счёт на оплату № {order.number}" in text
    assert app.config["SUPPLIER"]["inn"] in text and pharmacy.inn in text
    assert "НДС 10%" in text and "НДС 22%" in text
    assert "Двести тридцать рублей 00 копеек" in text


def test_order_xlsx_and_no_documents_without_view_prices(app, login_as, buyer, pharmacy):
    order = place(login_as(buyer), pharmacy, make_item("Нурофен", price="100.00", sku="X1"), 2)
    client = login_as(buyer)
    with client.get(f"/orders/{order.id}/order.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.data)).active
        rows = list(sheet.iter_rows(values_only=True))
    assert any(row[1] == "X1" and row[3] == 2 for row in rows)
    limited = app.test_client()
    login(limited, make_user(pharmacy, {Power.ORDER}))
    assert limited.get(f"/orders/{order.id}/invoice.pdf").status_code == 403
    page = shown(limited.get(f"/orders/{order.id}"))
    assert "Нурофен" in page and "200,00" not in page  # the order, without its prices


def test_claim_or_return_of_a_delivered_order_becomes_a_request(
    app, login_as, buyer, pharmacy, other_pharmacy
):
    client = login_as(buyer)
    order = place(client, pharmacy, make_item("Нурофен"))
    assert "/tickets/new" not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    order.status = OrderStatus.DELIVERED
    db.session.commit()
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    link = f"/tickets/new?type=return&amp;order_id={order.id}"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert order.number in form  # the order is named, not just its id
    response = client.post(
        f"/tickets/new?type=return&order_id={order.id}",
        data={
            "title": "Возврат",
            "body": "Бой при доставке",
            "order_id": str(order.id),
            "return_reason": "defect",
            "return_items": "Нурофен 2 уп.",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.subject_kind, ticket.subject_id) == ("order", order.id)
    # The buyer may also type the order's number as printed on the invoice.
    by_number = client.post(
        "/tickets/new?type=complaint",
        data={"title": "Жалоба", "body": "Опоздание", "order_id": order.number},
        content_type="multipart/form-data",
    )
    assert by_number.status_code == 302
    assert db.session.scalars(select(Ticket.subject_id)).all() == [order.id, order.id]
    # Another organisation's order cannot be named in a request.
    stranger = make_user(other_pharmacy)
    other = app.test_client()
    login(other, stranger)
    refused = other.post(
        f"/tickets/new?type=return&order_id={order.id}",
        data={
            "title": "Возврат",
            "body": "?",
            "order_id": str(order.id),
            "return_reason": "defect",
            "return_items": "1 уп.",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(Ticket.id))) == 2
    assert workflow.order_for_organisation(other_pharmacy.id, order.id) is None


def test_dashboard_panels(login_as, buyer, pharmacy):
    place(login_as(buyer), pharmacy, make_item("Нурофен"))
    page = login_as(buyer).get("/").get_data(as_text=True)
    assert 'data-testid="open-orders">1<' in page and "Кредитный лимит" in page


@pytest.mark.postgres
def test_parallel_checkouts_never_oversell(app, pharmacy):
    """16 buyers race for 10 packs: exactly 10 packs are sold, stock never goes negative."""
    item = make_item("Нурофен", stock=10)
    buyers = [make_user(pharmacy) for _ in range(16)]
    clients = []
    for user in buyers:
        client = app.test_client()
        login(client, user)
        fill_cart(client, item, 1)
        clients.append(client)
    address_id = pharmacy.addresses[0].id
    barrier = threading.Barrier(len(clients))
    results = []

    def run(client, n):
        with app.app_context():
            token = client.csrf_token()
            barrier.wait()
            response = client.post(
                "/checkout",
                data={
                    "csrf_token": token,
                    "address_id": address_id,
                    "payment_terms": "prepayment",
                    "idempotency_key": f"parallel-key-{n:08d}",
                },
            )
            results.append(response.status_code)
            db.session.remove()

    threads = [threading.Thread(target=run, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert orders_count() == 10
    assert stock_of(item) == 0
    sold = db.session.scalar(select(func.sum(OrderLine.quantity)))
    assert sold == 10
