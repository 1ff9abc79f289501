"""Demo catalogue: real-looking medicines, warehouses, stock, batches, prices, promotions.

The medicines are a catalogue file (`data/medicines.csv`) loaded by the staff import
(`portal.catalog.importer`), so the demo proves the path a real catalogue takes. Stock,
batches, the chain price list and promotions are data files too: the demo is the same on
every run and on every machine. Idempotent: a second run changes nothing.
"""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.catalog import certificates, importer
from portal.catalog.models import (
    CertificateKind,
    Item,
    ItemCertificate,
    ItemPrice,
    OrganisationPricing,
    PriceList,
    Promotion,
)
from portal.extensions import db
from portal.inventory.models import Batch, Stock, Warehouse
from portal.organisations.models import Organisation

DATA = Path(__file__).parent / "data"
MEDICINES_FILE = DATA / "medicines.csv"

WAREHOUSES = [
    ("MSK", "Центральный склад, Москва", "Москва", 1, True),
    ("SPB", "Склад Санкт-Петербург", "Санкт-Петербург", 2, False),
    ("KZN", "Склад Казань", "Казань", 2, False),
    ("EKB", "Склад Екатеринбург", "Свердловская область", 3, False),
    ("NSK", "Склад Новосибирск", "Новосибирская область", 4, False),
]
PHARMACY_INN = "7728168971"  # the demo pharmacy buys on the chain price list, 3 % off


def rows(name: str) -> list[dict]:
    """One of the demo's data files as rows of text keyed by the header."""
    with (DATA / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _medicines():
    """The medicine list grouped as a generator of more items needs it (bench/): one entry per
    trade name and maker with its (form, strength, pack) variants; and the makers' countries."""
    grouped, makers = {}, {}
    for row in rows(MEDICINES_FILE.name):
        makers[row["manufacturer"]] = row["country"]
        key = (
            row["trade_name"],
            row["generic_name"],
            row["category"],
            row["manufacturer"],
            row["rx"] == "да",
            row["vital"] == "да",
            row["cold_chain"] == "да",
            row["vat"],
        )
        variant = (row["dosage_form"], row["strength"], int(row["pack_size"]))
        variants = grouped.setdefault(key, [])
        if variant not in variants:
            variants.append(variant)
    medicines = [(*key[:4], variants, *key[4:]) for key, variants in grouped.items()]
    return medicines, makers


# trade name, МНН, category, maker, [(form, strength, pack)], rx, vital, cold chain, VAT category
MEDICINES, MANUFACTURERS = _medicines()


def _get_or_create(model, defaults=None, **keys):
    row = db.session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def seed():
    if db.session.scalar(select(Item.id).limit(1)) is None:
        _seed_items()
    _seed_certificates()


def _seed_items():
    warehouses = {
        code: _get_or_create(
            Warehouse,
            code=code,
            defaults={
                "name": name,
                "region": region,
                "lead_time_days": days,
                "is_central": central,
            },
        )
        for code, name, region, days, central in WAREHOUSES
    }
    _get_or_create(PriceList, code="BASE", defaults={"name": "Базовый прайс", "is_base": True})
    chain = _get_or_create(
        PriceList, code="CHAIN", defaults={"name": "Сетевой прайс", "is_base": False}
    )
    # The staff import: items, categories, makers and base prices, all rows or none.
    report = importer.import_catalog(MEDICINES_FILE.name, MEDICINES_FILE.read_bytes())
    if report.rejected:
        reasons = "; ".join(f"line {r.line}: {r.reason}" for r in report.rejected)
        raise RuntimeError(f"the demo catalogue file is refused by the import: {reasons}")
    items = {item.sku: item for item in db.session.scalars(select(Item))}
    today = date.today()
    for row in rows("chain_prices.csv"):
        db.session.add(
            ItemPrice(price_list_id=chain.id, item_id=items[row["sku"]].id, price=row["price"])
        )
    # Some items are out of stock or nearly so, as in a real catalogue.
    for row in rows("stock.csv"):
        db.session.add(
            Stock(
                item_id=items[row["sku"]].id,
                warehouse_id=warehouses[row["warehouse"]].id,
                quantity=int(row["quantity"]),
            )
        )
    for row in rows("batches.csv"):
        db.session.add(
            Batch(
                item_id=items[row["sku"]].id,
                warehouse_id=warehouses[row["warehouse"]].id,
                series=row["series"],
                expires_on=today + timedelta(days=int(row["expires_in_days"])),
                quantity=int(row["quantity"]),
            )
        )
    # Running promotions, coming ones and a finished one (which must not apply any more).
    for row in rows("promotions.csv"):
        starts = today + timedelta(days=int(row["starts_in_days"]))
        db.session.add(
            Promotion(
                item_id=items[row["sku"]].id,
                title=row["title"],
                discount_percent=Decimal(row["discount_percent"]),
                starts_on=starts,
                ends_on=starts + timedelta(days=int(row["days"])),
            )
        )
    pharmacy = db.session.scalar(select(Organisation).where(Organisation.inn == PHARMACY_INN))
    if pharmacy is not None:
        _get_or_create(
            OrganisationPricing,
            organisation_id=pharmacy.id,
            defaults={"price_list_id": chain.id, "discount_percent": Decimal("3")},
        )
    db.session.flush()


# SKU, kind, number, valid for (days from today; negative: already expired).
DEMO_CERTIFICATES = [
    ("A00001", CertificateKind.DECLARATION, "ЕАЭС N RU Д-RU.РА01.В.10421/25", 700),
    ("A00001", CertificateKind.CERTIFICATE, "РОСС RU.0001.11ЛС05.00734", -30),
    ("A00003", CertificateKind.DECLARATION, "ЕАЭС N RU Д-RU.РА02.В.55120/26", 1000),
    ("K00002", CertificateKind.CERTIFICATE, "РОСС RU.0001.11ЛС05.01288", 400),
]
DEMO_CERTIFICATE_TITLES = {
    CertificateKind.CERTIFICATE: "Сертификат соответствия",
    CertificateKind.DECLARATION: "Декларация о соответствии",
}
DEMO_CERTIFICATION_BODY = "ООО «Центр сертификации лекарственных средств»"


def _seed_certificates():
    """A few generated PDF certificates, added only where the item has none of that number."""
    from portal.reports.pdf import render_pdf

    today = date.today()
    for sku, kind, number, days in DEMO_CERTIFICATES:
        item = db.session.scalar(select(Item).where(Item.sku == sku))
        if item is None:
            continue
        exists = db.session.scalar(
            select(ItemCertificate.id).where(
                ItemCertificate.item_id == item.id,
                ItemCertificate.kind == kind,
                ItemCertificate.number == number,
            )
        )
        if exists is not None:
            continue
        valid_until = today + timedelta(days=days)
        with current_app.test_request_context():
            pdf = render_pdf(
                "catalog/certificate_demo_pdf.html",
                title=DEMO_CERTIFICATE_TITLES[kind],
                number=number,
                item=item,
                issued_by=DEMO_CERTIFICATION_BODY,
                valid_until=valid_until,
            )
        # The same checks and storage as a staff upload: the demo proves the real path.
        certificates.add_certificate(
            item,
            None,
            kind=kind,
            number=number,
            issued_by=DEMO_CERTIFICATION_BODY,
            valid_until=valid_until,
            file_storage=FileStorage(io.BytesIO(pdf), filename=f"{kind}-{item.sku}.pdf"),
        )
