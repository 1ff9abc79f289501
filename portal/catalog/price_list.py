"""The organisation's price list as a streamed XLSX: the whole catalogue at its prices.

With the stock of the warehouse serving the organisation («Нет в наличии» or the packs) and
the nearest expiry of that stock, a frozen header with filters, and an empty «Заказ» column:
filled in and uploaded under «Заказ из файла», the same file becomes an order.
"""

from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from portal.billing import tax
from portal.catalog import pricing
from portal.catalog.models import Category, Item, ItemPrice, Manufacturer
from portal.collation import ordered
from portal.extensions import db
from portal.inventory.models import Batch, Stock
from portal.inventory.warehouses import serving_warehouse
from portal.reports import xlsx

HEADERS = (
    "Код",
    "Наименование",
    "МНН",
    "Производитель",
    "Страна",
    "Штрихкод",
    "Категория",
    "Рецептурный",
    "ЖНВЛП",
    "НДС",
    "Мин. заказ",
    "Кратность",
    "Цена с НДС",
    "Цена по акции",
    "Остаток",
    "Ближайший срок годности",
    "Заказ",  # the quantity column of the order file (portal.orders.order_files)
)
OUT_OF_STOCK = "Нет в наличии"
WIDTHS = (10, 60, 30, 24, 14, 16, 26, 11, 8, 8, 10, 10, 14, 14, 14, 14, 10)
HEADER_ROW = 2  # below the title


def price_list_workbook(organisation, on: date | None = None):
    """A temporary file with the XLSX; rows are streamed (write_only), memory stays flat."""
    on = on or pricing.today()
    terms = pricing.terms_for(organisation.id)
    rates = tax.rates_on(on)
    own = aliased(ItemPrice)
    base = aliased(ItemPrice)
    warehouse = serving_warehouse(organisation)
    warehouse_id = warehouse.id if warehouse is not None else None
    expiry = (
        select(Batch.item_id, func.min(Batch.expires_on).label("expires_on"))
        .where(Batch.warehouse_id == warehouse_id, Batch.quantity > 0, Batch.expires_on >= on)
        .group_by(Batch.item_id)
        .subquery()
    )
    query = (
        select(
            Item.id,
            Item.sku,
            Item.trade_name,
            Item.dosage_form,
            Item.strength,
            Item.pack_size,
            Item.generic_name,
            Manufacturer.name,
            Manufacturer.country,
            Item.barcode,
            Category.name,
            Item.is_rx,
            Item.is_vital,
            Item.vat_category,
            Item.min_quantity,
            Item.order_multiple,
            own.price,
            base.price,
            Stock.quantity,
            expiry.c.expires_on,
        )
        .outerjoin(Manufacturer, Manufacturer.id == Item.manufacturer_id)
        .outerjoin(Category, Category.id == Item.category_id)
        .outerjoin(own, and_(own.item_id == Item.id, own.price_list_id == terms.price_list_id))
        .outerjoin(base, and_(base.item_id == Item.id, base.price_list_id == terms.base_list_id))
        .outerjoin(Stock, and_(Stock.item_id == Item.id, Stock.warehouse_id == warehouse_id))
        .outerjoin(expiry, expiry.c.item_id == Item.id)
        .where(Item.is_active.is_(True))
        .order_by(ordered(Item.trade_name), Item.id)
        .execution_options(yield_per=2000)
    )
    promotions = pricing.running_promotions_for_all(on)
    workbook, sheet = xlsx.new_write_only("Прайс-лист", WIDTHS)
    xlsx.freeze_above(sheet, HEADER_ROW + 1)
    title = f"Прайс-лист для {organisation.legal_name} на {on:%d.%m.%Y}"
    if warehouse is not None:
        title += f"; остатки: {warehouse.name}"
    sheet.append([xlsx.cell(sheet, title, bold=True)])
    sheet.append([xlsx.cell(sheet, h, bold=True) for h in HEADERS])
    money = xlsx.NumberCells(sheet)
    count = xlsx.NumberCells(sheet, xlsx.COUNT_FORMAT)
    day = xlsx.NumberCells(sheet, xlsx.DATE_FORMAT)
    vat_texts = {vat: tax.rate_text(vat, rate) for vat, rate in rates.items()}
    for row in db.session.execute(query):
        (
            item_id,
            sku,
            trade,
            form,
            strength,
            pack,
            generic,
            maker,
            country,
            barcode,
            category,
            rx,
            vital,
            vat,
            minimum,
            multiple,
            own_price,
            base_price,
            in_stock,
            expires_on,
        ) = row
        # The one pricing rule (pricing.price_of): own list else base, less the discount,
        # less a running promotion.
        priced = pricing.price_of(
            own_price, base_price, terms.discount_percent, promotions.get(item_id)
        )
        price = promo = None
        if priced is not None:
            final, price, promotion = priced
            promo = final if promotion else None
        name = ", ".join(p for p in (trade, form, strength) if p) + (f", №{pack}" if pack else "")
        # Empty cells are None (not ""): openpyxl writes nothing for them.
        sheet.append(
            [
                sku,
                name,
                generic or None,
                maker or None,
                country or None,
                barcode or None,
                category or None,
                "да" if rx else "нет",
                "да" if vital else "нет",
                vat_texts.get(vat),
                minimum,
                multiple,
                money(price) if price is not None else None,
                money(promo) if promo is not None else None,
                count(in_stock) if in_stock else OUT_OF_STOCK,
                day(expires_on) if expires_on is not None else None,
                None,
            ]
        )
    xlsx.filter_from(sheet, HEADER_ROW, len(HEADERS))
    return xlsx.to_temporary_file(workbook)
