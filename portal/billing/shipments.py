"""Shipments: what an order shipped, as a billing document (УПД) charged to the ledger.

The shipment's lines are the shipped quantities at the order's prices (VAT included), each
taxed at its category's rate on the shipment date (the tax date for goods); the ledger charge
is the shipment's total. The invoice for payment keeps the ordered amount. Recording a
shipment issues its УПД with a number of its own (portal.billing.primary).
"""

from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.billing import ledger, primary, tax
from portal.billing.models import Shipment, ShipmentLine, VatCategory
from portal.billing.texts import LedgerText
from portal.extensions import db
from portal.money import taxed_line_from_gross, to_money

# How the ledger (and the «Акт сверки») names a shipment's charge.


def shipment_number(order) -> str:
    # One shipment per order: the УПД carries the order's number, so both sides (and a
    # payment's purpose naming the order) find it.
    return order.number


def post_shipment(order, staff_user, shipped_on: date | None = None) -> Shipment | None:
    """Issue the shipment document for what an order shipped and charge its total.

    Nothing is issued when nothing shipped. Returns the shipment (None when nothing shipped).
    """
    shipped_on = shipped_on or clock.local_today()
    primary.check_requisites(current_app.config["SUPPLIER"])
    existing = shipment_of(order.id)
    if existing is not None:
        return existing
    shipment = Shipment(
        organisation_id=order.organisation_id,
        order_id=order.id,
        number=shipment_number(order),
        shipment_date=shipped_on,
        created_by_id=getattr(staff_user, "id", None),
    )
    net = vat = total = Decimal("0.00")
    for line in order.lines:
        quantity = line.quantity if line.shipped_quantity is None else line.shipped_quantity
        if quantity <= 0:
            continue
        category = line.vat_category or VatCategory.REDUCED
        rate = tax.rate_on(category, shipped_on)
        taxed = taxed_line_from_gross(to_money(line.price * quantity), rate)
        shipment.lines.append(
            ShipmentLine(
                order_line_id=line.id,
                sku=line.sku,
                name=line.name,
                quantity=quantity,
                price=line.price,
                vat_category=str(category),
                vat_rate=rate,
                net_amount=taxed.net,
                vat_amount=taxed.vat,
                amount=taxed.gross,
            )
        )
        net, vat, total = net + taxed.net, vat + taxed.vat, total + taxed.gross
    if not shipment.lines:
        return None
    shipment.net_amount, shipment.vat_amount, shipment.total = net, vat, total
    db.session.add(shipment)
    db.session.flush()
    # The shipment's УПД, numbered on its own (refused, with everything here, when a line
    # ships more than ordered). The charge keeps the order's number as its document number:
    # a payment's purpose names the order; its description names the УПД.
    document = primary.issue_upd(order, staff_user)
    entry = ledger.post_charge(
        order.organisation_id,
        total,
        entry_date=shipped_on,
        description=LedgerText(
            "shipment",
            document=document.printed_number,
            date=f"{shipped_on:%d.%m.%Y}",
            order=order.number,
        ),
        document_number=shipment.number,
        vat_amount=vat,
        # The source stays the order (as before shipments were documents of their own).
        source_type="order",
        source_id=order.id,
        created_by_id=getattr(staff_user, "id", None),
    )
    shipment.ledger_entry_id = entry.id
    db.session.flush()
    return shipment


def shipment_of(order_id) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.order_id == order_id))
