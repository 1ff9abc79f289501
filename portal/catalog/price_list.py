"""The organisation's price list as a streamed XLSX: the whole catalogue at its prices."""

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from portal.billing import tax
from portal.catalog import services as catalog
from portal.catalog.models import Category, Item, ItemPrice, Manufacturer
from portal.collation import ordered
from portal.extensions import db
from portal.money import to_money
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
)


def price_list_workbook(organisation, on: date | None = None):
    """A temporary file with the XLSX; rows are streamed (write_only), memory stays flat."""
    on = on or catalog.today()
    terms = catalog.terms_for(organisation.id)
    rates = tax.rates_on(on)
    own = aliased(ItemPrice)
    base = aliased(ItemPrice)
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
        )
        .outerjoin(Manufacturer, Manufacturer.id == Item.manufacturer_id)
        .outerjoin(Category, Category.id == Item.category_id)
        .outerjoin(own, and_(own.item_id == Item.id, own.price_list_id == terms.price_list_id))
        .outerjoin(base, and_(base.item_id == Item.id, base.price_list_id == terms.base_list_id))
        .where(Item.is_active.is_(True))
        .order_by(ordered(Item.trade_name), Item.id)
        .execution_options(yield_per=2000)
    )
    promotions = catalog.running_promotions_for_all(on)
    workbook, sheet = xlsx.new_write_only(
        "Прайс-лист", (10, 60, 30, 24, 14, 16, 26, 11, 8, 8, 10, 10, 14, 14)
    )
    sheet.append(
        [xlsx.cell(sheet, f"Прайс-лист для {organisation.legal_name} на {on:%d.%m.%Y}", bold=True)]
    )
    sheet.append([xlsx.cell(sheet, h, bold=True) for h in HEADERS])
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
        ) = row
        listed = own_price if own_price is not None else base_price
        name = ", ".join(p for p in (trade, form, strength) if p) + (f", №{pack}" if pack else "")
        price = promo = None
        if listed is not None:
            price = to_money(listed * (100 - terms.discount_percent) / 100)
            if item_id in promotions:
                offered, promotion = catalog.best_promotion(price, promotions[item_id])
                promo = offered if promotion else None
        sheet.append(
            [
                sku,
                name,
                generic or "",
                maker or "",
                country or "",
                barcode or "",
                category or "",
                "да" if rx else "нет",
                "да" if vital else "нет",
                tax.rate_text(vat, rates[vat]) if vat in rates else "",
                minimum,
                multiple,
                xlsx.cell(sheet, price) if price is not None else "",
                xlsx.cell(sheet, promo) if promo is not None else "",
            ]
        )
    return xlsx.to_temporary_file(workbook)
