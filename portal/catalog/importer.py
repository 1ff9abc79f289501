"""Staff catalogue import from XLSX/CSV: create or update items by SKU, all rows or none."""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from stdnum import ean

from portal import audit, clock
from portal.billing import okei, tax
from portal.billing.models import VatCategory
from portal.catalog.models import Category, Item, ItemPrice, Manufacturer, PriceList
from portal.errors import UserError
from portal.extensions import db
from portal.files import tables
from portal.money import MoneyError, to_money
from portal.validators import NumberError, parse_whole

# Recognised headers (lower case) for each field: English keys and the usual Russian names.
COLUMNS = {
    "sku": ("sku", "код", "артикул"),
    "trade_name": ("trade_name", "наименование", "торговое наименование"),
    "generic_name": ("generic_name", "мнн"),
    "dosage_form": ("dosage_form", "форма", "лекарственная форма"),
    "strength": ("strength", "дозировка"),
    "pack_size": ("pack_size", "фасовка", "количество в упаковке"),
    "manufacturer": ("manufacturer", "производитель"),
    "country": ("country", "страна"),
    "barcode": ("barcode", "ean", "штрихкод", "штрих-код"),
    "category": ("category", "категория"),
    "is_rx": ("rx", "рецептурный", "по рецепту"),
    "is_vital": ("vital", "жнвлп"),
    "is_cold_chain": ("cold_chain", "холодовая цепь"),
    "storage_conditions": ("storage", "условия хранения"),
    "vat_category": ("vat", "ндс", "vat_category", "категория ндс", "ставка ндс"),
    "min_quantity": ("min_quantity", "минимальный заказ"),
    "order_multiple": ("multiple", "кратность"),
    "description": ("description", "описание"),
    "price": ("price", "цена"),
    "okei_code": ("okei", "окей", "код окей", "единица измерения"),
    "origin_country_code": ("origin_country", "код страны", "страна происхождения"),
}
TRUE_WORDS = {"1", "да", "yes", "true", "y", "д", "+"}
FALSE_WORDS = {"", "0", "нет", "no", "false", "n", "н", "-"}


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: object


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list = field(default_factory=list)


def _flag(value: str):
    value = value.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def _whole(value: str, default: int | None):
    if not value.strip():
        return default
    try:
        number = parse_whole(value)
    except NumberError:
        return None
    return number if number >= 1 else None


# The words a catalogue file may use for a VAT category (lower case).
VAT_WORDS = {
    VatCategory.GENERAL: ("general", "общая", "основная", "общая ставка"),
    VatCategory.REDUCED: ("reduced", "льготная", "пониженная", "лекарства", "медицинские изделия"),
    VatCategory.ZERO: ("zero", "нулевая", "ноль"),
    VatCategory.WITHOUT: ("without", "без ндс", "без налога", "не облагается"),
}


def vat_category_of(text: str, on: date):
    """A VAT column's value: a category name, or a rate in force on the date (10, 22 %).

    An empty cell means the reduced rate (a catalogue of medicines). Returns (category, None)
    or (None, reason).
    """
    value = (text or "").strip().lower()
    if not value:
        return VatCategory.REDUCED, None
    for category, words in VAT_WORDS.items():
        if value in words:
            return category, None
    if value.endswith(".0"):
        value = value[:-2]
    category = tax.category_for_rate(value, on)
    if category is not None:
        return category, None
    return None, _l(
        "VAT «%(value)s» is neither a category (general, reduced, zero, without) nor a rate in "
        "force on %(date)s.",
        value=text.strip(),
        date=on.strftime("%d.%m.%Y"),
    )


def _clean_row(values: dict, line: int, on: date):
    """Validate one row; return (fields, None) or (None, reason)."""
    sku = values.get("sku", "").strip()
    if not sku or len(sku) > 32:
        return None, _l("SKU is missing or longer than 32 characters.")
    if not values.get("trade_name", "").strip():
        return None, _l("Trade name is missing.")
    barcode = values.get("barcode", "").strip()
    if barcode.endswith(".0"):
        barcode = barcode[:-2]
    if barcode and (len(barcode) != 13 or not ean.is_valid(barcode)):
        return None, _l("Barcode %(barcode)s is not a valid EAN-13.", barcode=barcode)
    vat_category, reason = vat_category_of(values.get("vat_category", ""), on)
    if reason is not None:
        return None, reason
    flags = {}
    for name in ("is_rx", "is_vital", "is_cold_chain"):
        flag = _flag(values.get(name, ""))
        if flag is None:
            return None, _l("Column %(column)s must be «да» or «нет».", column=name)
        flags[name] = flag
    minimum = _whole(values.get("min_quantity", ""), 1)
    multiple = _whole(values.get("order_multiple", ""), 1)
    pack_size = _whole(values.get("pack_size", ""), None) if values.get("pack_size") else None
    if minimum is None or multiple is None:
        return None, _l("Minimum quantity and multiple must be whole numbers from 1.")
    if values.get("pack_size") and pack_size is None:
        return None, _l("Pack size must be a whole number from 1.")
    price = None
    if values.get("price", "").strip():
        try:
            price = to_money(values["price"])
        except MoneyError:
            price = None
        if price is None or price <= 0:
            return None, _l("Price «%(value)s» is not a positive amount.", value=values["price"])
    document_fields, reason = _document_fields(values)
    if reason is not None:
        return None, reason
    return {
        **document_fields,
        "sku": sku,
        "trade_name": values["trade_name"].strip()[:255],
        "generic_name": values.get("generic_name", "").strip()[:255] or None,
        "dosage_form": values.get("dosage_form", "").strip()[:120] or None,
        "strength": values.get("strength", "").strip()[:60] or None,
        "pack_size": pack_size,
        "manufacturer": values.get("manufacturer", "").strip()[:200] or None,
        "country": values.get("country", "").strip()[:100] or None,
        "barcode": barcode or None,
        "category": values.get("category", "").strip()[:200] or None,
        "storage_conditions": values.get("storage_conditions", "").strip()[:200] or None,
        "vat_category": vat_category,
        "min_quantity": minimum,
        "order_multiple": multiple,
        "description": values.get("description", "").strip() or None,
        "price": price,
        **flags,
    }, None


def _document_fields(values: dict):
    """The unit (ОКЕИ) and the country of origin (ОКСМ) the УПД prints, when the file has them
    (an empty cell keeps what the item has)."""
    fields = {}
    unit = values.get("okei_code", "").strip().removesuffix(".0")
    if unit:
        unit = unit.zfill(3)
        if unit not in okei.UNITS:
            return None, _l(
                "Unit code «%(value)s» is not an ОКЕИ code the documents know (778 «упак», "
                "796 «шт», …).",
                value=unit,
            )
        fields["okei_code"] = unit
    country = values.get("origin_country_code", "").strip().removesuffix(".0")
    if country:
        if not (country.isdigit() and len(country) <= 3):
            return None, _l(
                "Country of origin «%(value)s» is not a 3-digit ОКСМ code (643 for Russia).",
                value=country,
            )
        fields["origin_country_code"] = country.zfill(3)
    return fields, None


def import_catalog(
    filename: str, data: bytes, *, dry_run=False, on: date | None = None
) -> ImportReport:
    """Check every row; when all are valid (and not dry_run) create/update the items.

    Numeric VAT rates are read as the rates in force on `on` (the import's date by default).
    """
    on = on or clock.local_today()
    table = tables.read_table(filename, data, tables.import_limits(), error=UserError)
    if not table:
        raise UserError(_l("The file is empty."))
    header = [h.strip().lower() for h in table[0]]
    positions = {}
    for name, aliases in COLUMNS.items():
        for index, title in enumerate(header):
            if title in aliases:
                positions[name] = index
                break
    if "sku" not in positions or "trade_name" not in positions:
        raise UserError(
            _l("The first row must name the columns; «sku» and «trade_name» are required.")
        )
    report = ImportReport()
    cleaned = []
    seen = {}
    for line, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        row = {name: (values[i] if i < len(values) else "") for name, i in positions.items()}
        fields, reason = _clean_row(row, line, on)
        if reason is None and fields["sku"] in seen:
            reason = _l(
                "SKU %(sku)s repeats line %(line)s.", sku=fields["sku"], line=seen[fields["sku"]]
            )
        if reason is not None:
            report.rejected.append(RejectedRow(line, reason))
            continue
        seen[fields["sku"]] = line
        cleaned.append(fields)
    existing = {}
    skus = list(seen)
    for start in range(0, len(skus), 900):
        for item in db.session.scalars(select(Item).where(Item.sku.in_(skus[start : start + 900]))):
            existing[item.sku] = item
    for fields in cleaned:
        if fields["sku"] in existing:
            report.updated += 1
        else:
            report.created += 1
    if report.rejected or dry_run:
        return report
    _apply(cleaned, existing)
    audit.record("catalog.imported", file=filename, created=report.created, updated=report.updated)
    db.session.flush()
    return report


def _apply(rows, existing):
    categories = {c.name: c for c in db.session.scalars(select(Category))}
    makers = {m.name: m for m in db.session.scalars(select(Manufacturer))}
    base = db.session.scalar(select(PriceList).where(PriceList.is_base.is_(True)))
    if base is None:
        base = PriceList(code="BASE", name="Базовый прайс", is_base=True)
        db.session.add(base)
        db.session.flush()
    prices = {}
    for fields in rows:
        category_name = fields.pop("category")
        maker_name = fields.pop("manufacturer")
        country = fields.pop("country")
        price = fields.pop("price")
        if category_name and category_name not in categories:
            categories[category_name] = Category(name=category_name)
            db.session.add(categories[category_name])
        if maker_name and maker_name not in makers:
            makers[maker_name] = Manufacturer(name=maker_name, country=country)
            db.session.add(makers[maker_name])
        item = existing.get(fields["sku"])
        if item is None:
            item = Item(**fields)
            db.session.add(item)
        else:
            for name, value in fields.items():
                setattr(item, name, value)
        item.category = categories.get(category_name) if category_name else None
        item.manufacturer = makers.get(maker_name) if maker_name else None
        item.refresh_search_text()
        if price is not None:
            prices[item] = price
    db.session.flush()
    current = {
        p.item_id: p
        for p in db.session.scalars(select(ItemPrice).where(ItemPrice.price_list_id == base.id))
    }
    for item, price in prices.items():
        if item.id in current:
            current[item.id].price = price
        else:
            db.session.add(ItemPrice(price_list_id=base.id, item_id=item.id, price=price))
