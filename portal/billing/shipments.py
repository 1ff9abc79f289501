"""Shipments: what an order shipped is charged to the customer's ledger."""

from datetime import date
from decimal import Decimal

from portal.billing import ledger
from portal.money import vat_included


def post_shipment(order, staff_user):
    """Charge the shipped lines of an order (nothing when nothing shipped); returns the entry."""
    shipped = order.shipped_total
    vat = sum(
        (vat_included(line.shipped_amount, line.vat_rate) for line in order.lines),
        Decimal("0.00"),
    )
    if shipped <= 0:
        return None
    return ledger.post_charge(
        order.organisation_id,
        shipped,
        entry_date=date.today(),
        description=f"Отгрузка по заказу № {order.number}",
        document_number=order.number,
        vat_amount=vat,
        source_type="order",
        source_id=order.id,
        created_by_id=staff_user.id,
    )
