"""Series and expiry per shipped line: staff record them, shipping checks them, the buyer sees
them on the order, in the УПД (PDF table, XLSX, XML) and in the shipment's XLSX."""

import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.billing import primary
from portal.extensions import db
from portal.orders.models import CartLine, Order, OrderStatus
from portal.pharmacy.models import LineSeries
from tests.catalog.builders import make_item, make_order
from tests.factories import login
from tests.orders.test_partial_updates import htmx_post

IN_A_YEAR = (date.today() + timedelta(days=365)).strftime("%d.%m.%Y")
IN_TWO_YEARS = (date.today() + timedelta(days=730)).strftime("%d.%m.%Y")


def staff_client(app, manager, organisation):
    organisation.manager_id = manager.id
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    return client


def series_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(LineSeries.id)))


def post_series(client, order, rows):
    line = order.lines[0]
    data = {}
    for index, (series, expiry, quantity) in enumerate(rows):
        data[f"series-{line.id}-{index}"] = series
        data[f"expiry-{line.id}-{index}"] = expiry
        data[f"quantity-{line.id}-{index}"] = quantity
        data[f"declaration-{line.id}-{index}"] = (
            "РОСС RU Д-RU.РА01.В.12345/26" if index == 0 else ""
        )
    return client.post(f"/backoffice/pharmacy/orders/{order.id}/series", data=data)


def test_series_reach_the_order_the_upd_and_the_xlsx(app, manager, buyer, pharmacy):
    item = make_item("Амоксициллин", stock=20)
    order = make_order(pharmacy, status=OrderStatus.ASSEMBLING, user=buyer, item=item, quantity=5)
    staff = staff_client(app, manager, pharmacy)
    saved = post_series(staff, order, [("ab 101", IN_TWO_YEARS, "3"), ("AB102", IN_A_YEAR, "2")])
    assert saved.status_code == 302
    assert series_count() == 2
    shipped = staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    assert shipped.status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED
    upd = primary.upd_of_order(order.id)
    (line,) = primary.snapshot_of(upd)["lines"]
    # Two series on one line: both named, the earlier expiry printed.
    assert line["series"] == "AB102, AB101" and line["expires_on"] == IN_A_YEAR

    client = app.test_client()
    login(client, buyer)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Серия AB101, 3 уп." in page and "Серия AB102, 2 уп." in page
    xml = client.get(f"/settlements/documents/{upd.id}/document.xml")
    root = ET.fromstring(xml.data)  # noqa: S314 - the portal's own output
    details = root.find(".//СведТов/ДопСведТов")
    assert details.get("СерияТов") == "AB102, AB101"
    expiry = root.find(".//СведТов/ИнфПолФХЖ2")
    assert expiry.get("Значен") == IN_A_YEAR
    upd_xlsx = client.get(f"/settlements/documents/{upd.id}/upd.xlsx")
    sheet = load_workbook(io.BytesIO(upd_xlsx.data))
    upd_xlsx.close()
    values = [cell for row in sheet.active.iter_rows(values_only=True) for cell in row]
    assert "AB102, AB101" in values and IN_A_YEAR in values

    response = client.get(f"/orders/{order.id}/series.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    series_rows = [row for row in rows if row[1] == item.sku]
    assert [(row[4], row[5]) for row in series_rows] == [("AB102", 2), ("AB101", 3)]
    assert series_rows[1][7] == "РОСС RU Д-RU.РА01.В.12345/26"
    assert "pharmacy.series_recorded" in db.session.scalars(select(AuditEvent.action)).all()


def test_bad_series_are_refused_with_a_message_and_nothing_saved(app, manager, pharmacy):
    item = make_item("Амоксициллин", stock=20)
    order = make_order(pharmacy, status=OrderStatus.ASSEMBLING, item=item, quantity=3)
    staff = staff_client(app, manager, pharmacy)
    past = (date.today() - timedelta(days=1)).strftime("%d.%m.%Y")
    cases = [
        ([("A1", IN_A_YEAR, "2"), ("A2", IN_A_YEAR, "2")], "больше, чем отгружается"),
        ([("A1", past, "1")], "истёк"),
        ([("A1", "31.02.2027", "1")], "ДД.ММ.ГГГГ"),
        ([("A1", IN_A_YEAR, "0")], "больше нуля"),
        ([("A1", IN_A_YEAR, "1"), ("a1", IN_A_YEAR, "1")], "указана дважды"),
    ]
    for rows, message in cases:
        response = post_series(staff, order, rows)
        assert response.status_code == 422, rows
        assert message in response.get_data(as_text=True), rows
        assert series_count() == 0
    # Nothing at all posted: refused too.
    assert staff.post(f"/backoffice/pharmacy/orders/{order.id}/series", data={}).status_code == 422


def test_series_over_a_lowered_shipped_quantity_refuse_the_shipment(app, manager, pharmacy):
    item = make_item("Амоксициллин", stock=20)
    order = make_order(pharmacy, status=OrderStatus.ASSEMBLING, item=item, quantity=4)
    staff = staff_client(app, manager, pharmacy)
    assert post_series(staff, order, [("B7", IN_A_YEAR, "4")]).status_code == 302
    line = order.lines[0]
    staff.post(f"/backoffice/orders/{order.id}/shipped", data={f"shipped-{line.id}": "3"})
    response = staff.post(f"/backoffice/orders/{order.id}/status", data={"status": "shipped"})
    assert response.status_code == 422
    assert "больше, чем отгружается" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ASSEMBLING
    assert primary.upd_of_order(order.id) is None


def test_series_cannot_change_after_shipping(app, manager, pharmacy):
    order = make_order(pharmacy, status=OrderStatus.SHIPPED, quantity=2)
    staff = staff_client(app, manager, pharmacy)
    response = post_series(staff, order, [("C1", IN_A_YEAR, "1")])
    assert response.status_code == 422 and series_count() == 0


def test_the_item_card_lists_series_in_stock_and_short_shelf_life_is_flagged(
    app, login_as, buyer, pharmacy
):
    from portal.inventory.models import Batch

    fresh = make_item("Ибупрофен", stock=10, expires_in_days=700)
    short = make_item("Цитрамон", stock=10, expires_in_days=100)
    for item, made_days_ago in ((fresh, 30), (short, 900)):
        batch = db.session.scalar(select(Batch).where(Batch.item_id == item.id))
        batch.manufactured_on = date.today() - timedelta(days=made_days_ago)
    db.session.commit()
    client = login_as(buyer)
    card = client.get(f"/catalog/items/{short.id}").get_data(as_text=True)
    assert 'data-testid="series-in-stock"' in card and short.batches[0].series in card
    assert "Остаток срока годности: 10%" in card
    fresh_card = client.get(f"/catalog/items/{fresh.id}").get_data(as_text=True)
    assert 'data-testid="series-in-stock"' in fresh_card and "96%" in fresh_card
    assert 'data-testid="short-shelf-life"' not in fresh_card
    listing = client.get("/catalog/?sort=name").get_data(as_text=True)
    rows = listing.split('data-testid="item-row"')[1:]
    flagged = [row for row in rows if 'data-testid="short-shelf-life"' in row]
    assert len(flagged) == 1 and "Цитрамон" in flagged[0]
    client.post("/cart/add", data={"item_id": short.id, "quantity": 1})
    cart = client.get("/cart").get_data(as_text=True)
    assert cart.count('data-testid="short-shelf-life"') == 1
    # A quantity changed in place (htmx) answers with the row, still flagged.
    line_id = db.session.scalar(select(CartLine.id))
    fragment = htmx_post(client, "/cart/update", {f"quantity-{line_id}": "2"})
    assert fragment.status_code == 200
    assert 'data-testid="short-shelf-life"' in fragment.get_data(as_text=True)
