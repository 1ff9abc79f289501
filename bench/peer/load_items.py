"""Load the portal bench database's items into the Oscar shop: the same names, prices, stock.

    bench/peer/.venv/bin/python bench/peer/load_items.py [--source peer_portal] [--users 4]

Read from the portal's database (a copy of `perf`, 50,000 items): each item becomes an Oscar
product with the SAME id (so the bench opens the same item on both sides), its full name as
the portal shows it as the title, the barcode as UPC, and in the description the МНН, maker,
SKU and the portal's description (Oscar indexes UPC, title and description: the same words the
portal searches). Inactive items are loaded as not public. Each product has one stock record
at one partner: the price the demo buyer sees (its price list, falling back to the base list,
less its discount) and the stock of the buyer's serving warehouse. Categories are the portal's.
Customers peer1..peerN@example.org (password demo-portal-2026) are created for the bench.
The tables are emptied first, so the script can be run again.
"""

import argparse
import os
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from oscar.apps.catalogue.models import Category, Product, ProductCategory, ProductClass  # noqa: E402
from oscar.apps.partner.models import Partner, StockRecord  # noqa: E402
from oscar.core.utils import slugify  # noqa: E402

PASSWORD = "demo-portal-2026"
ITEMS = """
SELECT i.id, i.trade_name, i.dosage_form, i.strength, i.pack_size, i.generic_name, i.sku,
       i.barcode, i.description, i.is_active, i.category_id, m.name,
       coalesce(own.price, base.price), coalesce(s.quantity, 0)
  FROM catalog_items i
  LEFT JOIN catalog_manufacturers m ON m.id = i.manufacturer_id
  LEFT JOIN catalog_item_prices own ON own.item_id = i.id AND own.price_list_id = %(own)s
  LEFT JOIN catalog_item_prices base ON base.item_id = i.id AND base.price_list_id = %(base)s
  LEFT JOIN catalog_stock s ON s.item_id = i.id AND s.warehouse_id = %(warehouse)s
 ORDER BY i.id
"""


def full_name(trade_name, dosage_form, strength, pack_size):
    """As portal/catalog/models.py full_item_name names an item on its pages."""
    name = ", ".join(part for part in (trade_name, dosage_form, strength) if part)
    return f"{name}, №{pack_size}" if pack_size else name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="peer_portal", help="the portal's database")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--price-list", type=int, default=2, help="the demo buyer's list")
    parser.add_argument("--base-list", type=int, default=1)
    parser.add_argument("--discount", default="3.00", help="the demo buyer's discount, %%")
    parser.add_argument("--warehouse", type=int, default=1, help="the buyer's warehouse")
    args = parser.parse_args()
    began = time.monotonic()
    factor = 1 - Decimal(args.discount) / 100
    host = os.environ.get("PEER_PGHOST", "127.0.0.1")
    user = os.environ.get("PEER_PGUSER", "postgres")
    with psycopg.connect(f"postgresql://{user}@{host}:5432/{args.source}") as source:
        categories = source.execute("SELECT id, name FROM catalog_categories ORDER BY id")
        categories = categories.fetchall()
        rows = source.execute(
            ITEMS, {"own": args.price_list, "base": args.base_list, "warehouse": args.warehouse}
        ).fetchall()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE catalogue_productcategory, partner_stockrecord, basket_line,"
                " basket_basket, catalogue_product, catalogue_category, catalogue_productclass,"
                " partner_partner CASCADE"
            )
        product_class = ProductClass.objects.create(
            name="Лекарственный препарат", slug="drug", requires_shipping=True, track_stock=True
        )
        partner = Partner.objects.create(name="Центральный склад", code="central")
        category_of = {}
        for category_id, name in categories:
            category_of[category_id] = Category.objects.add_root(name=name)
        products, links, records = [], [], []
        for (
            item_id, trade, form, strength, pack, generic, sku, barcode, description, active,
            category_id, maker, price, stock,
        ) in rows:  # fmt: skip
            title = full_name(trade, form, strength, pack)
            text = " ".join(
                part
                for part in (
                    f"МНН: {generic}." if generic else "",
                    f"Производитель: {maker}." if maker else "",
                    f"Артикул: {sku}.",
                    description or "",
                )
                if part
            )
            products.append(
                Product(
                    id=item_id,
                    structure=Product.STANDALONE,
                    upc=barcode,
                    title=title,
                    slug=slugify(title)[:255] or f"item-{item_id}",
                    description=text,
                    product_class=product_class,
                    is_public=active,
                )
            )
            if category_id in category_of:
                links.append(ProductCategory(product_id=item_id, category=category_of[category_id]))
            if price is not None:
                records.append(
                    StockRecord(
                        product_id=item_id,
                        partner=partner,
                        partner_sku=sku,
                        price_currency="RUB",
                        price=(price * factor).quantize(Decimal("0.01"), ROUND_HALF_UP),
                        num_in_stock=stock,
                    )
                )
        Product.objects.bulk_create(products, batch_size=2000)
        ProductCategory.objects.bulk_create(links, batch_size=5000)
        StockRecord.objects.bulk_create(records, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('catalogue_product', 'id'),"
                " (SELECT max(id) FROM catalogue_product))"
            )
        users = get_user_model()
        for number in range(1, args.users + 1):
            email = f"peer{number}@example.org"
            user = users.objects.filter(email=email).first()
            if user is None:
                user = users.objects.create_user(
                    username=f"peer{number}", email=email, password=PASSWORD
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{len(products)} products ({sum(p.is_public for p in products)} public), "
        f"{len(records)} stock records, {len(category_of)} categories, {args.users} customers "
        f"in {time.monotonic() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
