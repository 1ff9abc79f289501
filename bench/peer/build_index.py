"""Build the Oscar shop's search index (haystack + Whoosh) in a few large batches.

    bench/peer/.venv/bin/python bench/peer/build_index.py

The documents are Oscar's own (oscar.apps.search.search_indexes.ProductIndex: the same
fields, templates and analysers as `manage.py rebuild_index` writes); only the per-product
look-ups of that index (categories, price and stock through the default strategy, product
class: four statements per product, 200,000 round trips for 50,000 items) are answered from
two statements read beforehand, and Whoosh writes them in one commit.
"""

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from haystack import connections  # noqa: E402
from oscar.apps.catalogue.models import Product  # noqa: E402


def main():
    began = time.monotonic()
    shutil.rmtree(settings.HAYSTACK_CONNECTIONS["default"]["PATH"], ignore_errors=True)
    backend = connections["default"].get_backend()
    index = connections["default"].get_unified_index().get_index(Product)
    with connection.cursor() as cursor:
        cursor.execute("SELECT product_id, category_id FROM catalogue_productcategory")
        categories: dict[int, list[int]] = {}
        for product_id, category_id in cursor.fetchall():
            categories.setdefault(product_id, []).append(category_id)
        # The default strategy: the first stock record, no tax (price excl. tax = incl. tax).
        cursor.execute(
            "SELECT DISTINCT ON (product_id) product_id, price,"
            " num_in_stock - coalesce(num_allocated, 0)"
            " FROM partner_stockrecord ORDER BY product_id, id"
        )
        stock = {row[0]: (float(row[1]) if row[1] is not None else None, row[2]) for row in cursor}
    index.prepare_category = lambda obj: categories.get(obj.pk, [])
    index.prepare_price = lambda obj: stock.get(obj.pk, (None, None))[0]
    index.prepare_num_in_stock = lambda obj: stock.get(obj.pk, (None, None))[1]
    products = index.index_queryset().select_related("product_class")
    backend.setup()  # an empty index with haystack's schema for Oscar's fields
    # One writer and one commit: committing per batch makes Whoosh merge the growing index
    # again at every commit. The documents go in as haystack's own update() prepares them.
    writer = backend.index.writer(limitmb=256)
    done = 0
    for product in products.iterator(chunk_size=2000):
        doc = index.full_prepare(product)
        for key in doc:
            doc[key] = backend._from_python(doc[key])
        doc.pop("boost", None)
        writer.add_document(**doc)
        done += 1
        if done % 10_000 == 0:
            print(f"{done} products prepared ({time.monotonic() - began:.0f} s)", flush=True)
    writer.commit()
    print(f"{done} products indexed in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
