"""Recalls: staff recall or suspend a series with the regulator's letter; every organisation
that received it is told (mail, bell, dashboard until acknowledged); the series can no longer
be ordered or shipped; bad input changes nothing."""

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.inventory.models import Batch
from portal.notifications.models import Notification
from portal.orders.models import Order, OrderStatus
from portal.pharmacy.models import RecallNotice, SeriesRecall
from tests.catalog.builders import make_item, make_order, stock_of
from tests.documents.files import EXECUTABLE_BYTES, PDF_BYTES
from tests.factories import login, make_user
from tests.pharmacy.builders import shipped_order_with_series

IN_A_YEAR = (date.today() + timedelta(days=365)).strftime("%d.%m.%Y")


def recall_form(sku, series, *, letter=PDF_BYTES, kind="recalled", number="№ 01и-77/26"):
    return {
        "sku": sku,
        "series": series,
        "kind": kind,
        "letter_number": number,
        "reason": "Несоответствие по показателю «Описание»",
        "letter": (io.BytesIO(letter), "letter.pdf"),
    }


def recalls_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(SeriesRecall.id)))


def test_a_recall_reaches_every_receiver_and_stops_ordering_and_shipping(
    app, admin, buyer, pharmacy, other_pharmacy, outbox
):
    order, item = shipped_order_with_series(pharmacy, series="AB123", quantity=2)
    make_order(other_pharmacy, status=OrderStatus.SHIPPED, item=item)  # no series: not told
    in_stock = db.session.scalar(select(Batch).where(Batch.item_id == item.id))
    in_stock.series = "AB123"  # the same series is still on the shelf
    db.session.commit()
    stock_before = stock_of(item)
    staff = app.test_client()
    login(staff, admin)
    response = staff.post(
        "/backoffice/pharmacy/recalls",
        data=recall_form(item.sku, "ab123"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    recall = db.session.scalar(select(SeriesRecall))
    assert recall.series == "AB123" and recall.content_type == "application/pdf"
    (notice,) = recall.notices
    assert (notice.organisation_id, notice.packs) == (pharmacy.id, 2)
    assert stock_of(item) == stock_before - recall.withdrawn_packs == 0
    (mail,) = outbox.to(buyer.email)
    assert "Отозвана" in mail["Subject"] and "AB123" in mail["Subject"]
    bell = db.session.scalar(select(Notification).where(Notification.user_id == buyer.id))
    assert "AB123" in bell.title
    assert "pharmacy.series_recalled" in db.session.scalars(select(AuditEvent.action)).all()

    client = app.test_client()
    login(client, buyer)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-testid="recalls-panel"' in dashboard and "AB123" in dashboard
    order_page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="series-recalled"' in order_page
    page = client.get(f"/pharmacy/recalls/{recall.id}").get_data(as_text=True)
    assert "Ваша организация получила 2 уп." in page
    letter = client.get(f"/pharmacy/recalls/{recall.id}/letter")
    assert letter.status_code == 200 and letter.data == PDF_BYTES
    letter.close()
    # Out of stock now: adding it to the cart is refused.
    client.post("/cart/add", data={"item_id": item.id, "quantity": 1})
    assert "cart-line" not in client.get("/cart").get_data(as_text=True)
    assert client.post(f"/pharmacy/recalls/{recall.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert db.session.get(RecallNotice, notice.id).acknowledged_by_id == buyer.id
    assert 'data-testid="recalls-panel"' not in client.get("/").get_data(as_text=True)

    # An order still assembling cannot ship the recalled series.
    pending = make_order(pharmacy, status=OrderStatus.ASSEMBLING, item=item, quantity=1)
    line = pending.lines[0]
    refused = staff.post(
        f"/backoffice/pharmacy/orders/{pending.id}/series",
        data={
            f"series-{line.id}-0": "AB123",
            f"expiry-{line.id}-0": IN_A_YEAR,
            f"quantity-{line.id}-0": "1",
        },
    )
    assert refused.status_code == 422 and "отгрузить нельзя" in refused.get_data(as_text=True)


def test_a_series_recalled_after_it_was_recorded_stops_the_shipment(app, admin, pharmacy):
    item = make_item("Амоксициллин", stock=20)
    order = make_order(pharmacy, status=OrderStatus.ASSEMBLING, item=item, quantity=2)
    staff = app.test_client()
    login(staff, admin)
    line = order.lines[0]
    staff.post(
        f"/backoffice/pharmacy/orders/{order.id}/series",
        data={
            f"series-{line.id}-0": "Z9",
            f"expiry-{line.id}-0": IN_A_YEAR,
            f"quantity-{line.id}-0": "2",
        },
    )
    response = staff.post(
        "/backoffice/pharmacy/recalls",
        data=recall_form(item.sku, "Z9", kind="suspended"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    shipped = staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    assert shipped.status_code == 422 and "Приостановлена" in shipped.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ASSEMBLING


def test_bad_recalls_are_refused_and_nothing_is_saved(app, admin, pharmacy, outbox):
    order, item = shipped_order_with_series(pharmacy, series="AB123")
    staff = app.test_client()
    login(staff, admin)
    cases = [
        (recall_form(item.sku, "NOPE1"), "неизвестна"),
        (recall_form("NO-SUCH-SKU", "AB123"), "Нет товара с кодом"),
        (recall_form(item.sku, "AB123", number=""), "номер и дату письма"),
        (recall_form(item.sku, "AB123", letter=EXECUTABLE_BYTES), "letter"),
    ]
    for data, message in cases:
        response = staff.post(
            "/backoffice/pharmacy/recalls", data=data, content_type="multipart/form-data"
        )
        assert response.status_code == 422, message
        if message != "letter":
            assert message in response.get_data(as_text=True)
        assert recalls_count() == 0
    assert db.session.scalar(select(func.count(RecallNotice.id))) == 0
    assert outbox.to(order.user.email if order.user else "nobody@example.com") == []
    first = staff.post(
        "/backoffice/pharmacy/recalls",
        data=recall_form(item.sku, "AB123"),
        content_type="multipart/form-data",
    )
    assert first.status_code == 302
    again = staff.post(
        "/backoffice/pharmacy/recalls",
        data=recall_form(item.sku, "AB123"),
        content_type="multipart/form-data",
    )
    assert again.status_code == 422 and "уже" in again.get_data(as_text=True)
    assert recalls_count() == 1


def test_only_receivers_see_a_recall(app, login_as, pharmacy, other_pharmacy, admin):
    order, item = shipped_order_with_series(pharmacy, series="AB123")
    staff = app.test_client()
    login(staff, admin)
    staff.post(
        "/backoffice/pharmacy/recalls",
        data=recall_form(item.sku, "AB123"),
        content_type="multipart/form-data",
    )
    recall = db.session.scalar(select(SeriesRecall))
    stranger = login_as(make_user(other_pharmacy, login="stranger"))
    assert stranger.get(f"/pharmacy/recalls/{recall.id}").status_code == 404
    assert stranger.get(f"/pharmacy/recalls/{recall.id}/letter").status_code == 404
    assert stranger.post(f"/pharmacy/recalls/{recall.id}/acknowledge").status_code == 404
