"""Catalogue and order builders for tests: warehouses, items with prices and stock, orders."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from stdnum import ean

from portal.billing.tax import rate_on
from portal.catalog.models import (
    Category,
    Item,
    ItemPrice,
    Manufacturer,
    OrganisationPricing,
    PriceList,
    Promotion,
)
from portal.extensions import db
from portal.inventory.models import Batch, Stock, Warehouse
from portal.orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentTerms

_numbers = itertools.count(1)


def warehouse(region="Москва", code="MSK", lead_time_days=1, central=True):
    found = db.session.scalar(select(Warehouse).where(Warehouse.code == code))
    if found:
        return found
    row = Warehouse(
        code=code,
        name=f"Склад {region}",
        region=region,
        lead_time_days=lead_time_days,
        is_central=central,
    )
    db.session.add(row)
    db.session.flush()
    return row


def base_list():
    found = db.session.scalar(select(PriceList).where(PriceList.is_base.is_(True)))
    if found:
        return found
    row = PriceList(code="BASE", name="Базовый", is_base=True)
    db.session.add(row)
    db.session.flush()
    return row


def barcode(n):
    body = f"4600{n:08d}"
    return body + ean.calc_check_digit(body)


def make_item(
    trade_name="Парацетамол",
    *,
    sku=None,
    price="100.00",
    stock=100,
    vat="reduced",
    min_quantity=1,
    order_multiple=1,
    generic_name=None,
    manufacturer="Фармстандарт",
    category="Анальгетики",
    is_rx=False,
    in_warehouse=None,
    expires_in_days=400,
):
    n = next(_numbers)
    maker = db.session.scalar(select(Manufacturer).where(Manufacturer.name == manufacturer))
    if maker is None:
        maker = Manufacturer(name=manufacturer, country="Россия")
    group = db.session.scalar(select(Category).where(Category.name == category))
    if group is None:
        group = Category(name=category)
    item = Item(
        sku=sku or f"T{n:05d}",
        trade_name=trade_name,
        generic_name=generic_name,
        dosage_form="таблетки",
        strength="500 мг",
        pack_size=10,
        manufacturer=maker,
        category=group,
        barcode=barcode(n),
        is_rx=is_rx,
        vat_category=vat,
        min_quantity=min_quantity,
        order_multiple=order_multiple,
    )
    item.refresh_search_text()
    db.session.add(item)
    db.session.flush()
    if price is not None:
        db.session.add(
            ItemPrice(price_list_id=base_list().id, item_id=item.id, price=Decimal(price))
        )
    store = in_warehouse or warehouse()
    db.session.add(Stock(item_id=item.id, warehouse_id=store.id, quantity=stock))
    if stock:
        db.session.add(
            Batch(
                item_id=item.id,
                warehouse_id=store.id,
                series=f"S{n}",
                expires_on=date.today() + timedelta(days=expires_in_days),
                quantity=stock,
            )
        )
    db.session.commit()
    return item


def promote(item, percent, *, starts=-1, ends=10):
    row = Promotion(
        item_id=item.id,
        title=f"Акция {item.trade_name}",
        discount_percent=Decimal(percent),
        starts_on=date.today() + timedelta(days=starts),
        ends_on=date.today() + timedelta(days=ends),
    )
    db.session.add(row)
    db.session.commit()
    return row


def give_terms(organisation, *, discount="0", price_list=None):
    db.session.add(
        OrganisationPricing(
            organisation_id=organisation.id,
            price_list_id=price_list.id if price_list else None,
            discount_percent=Decimal(discount),
        )
    )
    db.session.commit()


def stock_of(item):
    db.session.expire_all()
    return db.session.scalar(select(Stock.quantity).where(Stock.item_id == item.id))


def make_order(organisation, *, status=OrderStatus.NEW, user=None, item=None, quantity=2):
    """An order written directly (for access and back-office tests)."""
    item = item or make_item()
    n = next(_numbers)
    order = Order(
        organisation_id=organisation.id,
        user_id=user.id if user else None,
        status=status,
        warehouse_id=warehouse().id,
        delivery_address="Москва, ул. Тестовая, 1",
        delivery_date=date.today() + timedelta(days=1),
        payment_terms=PaymentTerms.PREPAYMENT,
        idempotency_key=f"test-key-{n:010d}",
        total=Decimal("200.00"),
        vat_total=Decimal("18.18"),
        number=f"T-{n:06d}",
    )
    order.lines.append(
        OrderLine(
            item_id=item.id,
            sku=item.sku,
            name=item.full_name,
            quantity=quantity,
            price=Decimal("100.00"),
            vat_category=item.vat_category,
            vat_rate=rate_on(item.vat_category, date.today()),
            amount=Decimal("100.00") * quantity,
        )
    )
    order.events.append(OrderEvent(status=status))
    db.session.add(order)
    db.session.commit()
    return order
