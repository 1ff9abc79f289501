"""A ledger with a document in every aging bucket, an unallocated payment and a credit
adjustment, as of TODAY (shared by the receivables and reminder tests)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from portal.billing import ledger
from portal.billing.shipments import post_shipment
from portal.extensions import db
from portal.orders.models import OrderStatus, PaymentTerms
from tests.catalog.builders import make_order

TODAY = date(2026, 6, 15)


def shipped_order(organisation, shipped_on, *, terms=PaymentTerms.DEFERRED, quantity=2):
    """An order of `quantity` packs at 100 ₽ shipped on a day; returns (order, shipment)."""
    order = make_order(organisation, status=OrderStatus.SHIPPED, quantity=quantity)
    order.payment_terms = terms
    # Placed (and invoiced) five days before it ships.
    order.created_at = datetime.combine(shipped_on - timedelta(days=5), time(9), tzinfo=UTC)
    shipment = post_shipment(order, None, shipped_on=shipped_on)
    db.session.flush()
    return order, shipment


def charge(organisation, amount, day, number, contract_id=None):
    return ledger.post_charge(
        organisation.id,
        amount,
        entry_date=day,
        description=f"Начисление {number}",
        document_number=number,
        contract_id=contract_id,
    )


def aging_ledger(organisation):
    """Open amounts by bucket as of TODAY (30 days of deferral, gas due on the 10th, a due day
    off moved to the next working day; see portal/billing/terms.py):

    over 90: ADJ-1 1000.00 of 01.02 (due at once) less a 150.00 payment  -> 850.00
    61–90:   gas 03/2026 of 31.03, due 10.04                             -> 456.78
    31–60:   gas 04/2026 of 30.04, due 10.05 (a Sunday; 11.05 a holiday) 12.05 -> 1234.56
    1–30:    deferred shipment of 01.05 (due 31.05, a Sunday: 01.06) 200.00 + prepayment
             order of 05.06 shipped 10.06 (due 3 banking days after 05.06: 10.06) 300.00
                                                                         -> 500.00
    current: deferred shipment of 01.06, due 01.07                       -> 400.00
    unallocated credit: a 99.99 payment for contract 77 (no charges) and a 33.33 credit
    adjustment                                                           -> 133.32
    """
    charge(organisation, "1000.00", date(2026, 2, 1), "ADJ-1")
    ledger.post_payment(
        organisation.id,
        "150.00",
        entry_date=date(2026, 2, 5),
        description="Оплата",
        document_number="ПП-1",
    )
    charge(organisation, "456.78", date(2026, 3, 31), "ГП-1/2026-03", contract_id=5)
    charge(organisation, "1234.56", date(2026, 4, 30), "ГП-1/2026-04", contract_id=5)
    deferred, _ = shipped_order(organisation, date(2026, 5, 1))
    prepaid, _ = shipped_order(
        organisation, date(2026, 6, 10), terms=PaymentTerms.PREPAYMENT, quantity=3
    )
    current, _ = shipped_order(organisation, date(2026, 6, 1), quantity=4)
    ledger.post_payment(
        organisation.id,
        "99.99",
        entry_date=date(2026, 6, 2),
        description="Оплата",
        document_number="ПП-2",
        contract_id=77,
    )
    ledger.post_adjustment(
        organisation.id, Decimal("-33.33"), entry_date=date(2026, 6, 3), reason="Скидка"
    )
    db.session.commit()
    return {"deferred": deferred, "prepaid": prepaid, "current": current}
