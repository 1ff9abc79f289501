"""Orders with series, and recalls, for the pharmacy tests."""

from datetime import date, timedelta

from portal.extensions import db
from portal.orders.models import OrderStatus
from portal.pharmacy.models import LineSeries, RecallNotice, SeriesRecall
from tests.catalog.builders import make_item, make_order


def shipped_order_with_series(organisation, series="AB123", quantity=2, item=None):
    """An order written directly as shipped, its line carrying one series."""
    item = item or make_item("Амоксициллин", stock=50)
    order = make_order(organisation, status=OrderStatus.SHIPPED, item=item, quantity=quantity)
    line = order.lines[0]
    line.shipped_quantity = quantity
    db.session.add(
        LineSeries(
            order_line_id=line.id,
            item_id=item.id,
            series=series,
            quantity=quantity,
            expires_on=date.today() + timedelta(days=300),
        )
    )
    db.session.commit()
    return order, item


def a_recall_notice(organisation):
    """A recall of a series the organisation received, with its notice (the access cases)."""
    order, item = shipped_order_with_series(organisation)
    recall = SeriesRecall(
        item_id=item.id,
        series="AB123",
        kind="recalled",
        letter_number="№ 01и-1234/26 от 01.12.2026",
        stored_name=f"letter-{order.id}.pdf",
        original_name="letter.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    db.session.add(recall)
    db.session.flush()
    db.session.add(RecallNotice(recall_id=recall.id, organisation_id=organisation.id, packs=2))
    db.session.commit()
    return recall
