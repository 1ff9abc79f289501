"""The yardsticks the portal is measured against, served by gunicorn with the portal's settings.

    gunicorn -w 2 bench.bare_app:app        (started by bench/floor.py and bench/search_mix.py)

- `/bare`: a bare Flask endpoint: one `SELECT 1` through a SQLAlchemy pool on the same
  database, a short text answer. No session, no templates, no log line.
- `/search?q=...&page=...&sort=...`: a minimal app running the portal's own search
  statements (`portal.catalog.search._find`, the answer cache bypassed) and one query for the
  names and prices of the page's ids, rendered as a plain HTML table with an f-string.

The portal application is created only to give `_find` its database session and
configuration; no portal request hook, template or blueprint runs for these routes.
"""

import html
import os
import sys
from datetime import date
from pathlib import Path

from flask import Flask, request
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE_URL = os.environ["PORTAL_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")

app = Flask(__name__)
_engine = create_engine(DATABASE_URL, pool_size=2)


def _create_portal():
    from portal import create_app

    return create_app()


# Created at start (outside any request: the portal's imports need no request context).
_portal = _create_portal()


def portal():
    return _portal


_BUYER = []


def _buyer():
    """The price terms and serving warehouse of the benchmark's buyer, read once."""
    if not _BUYER:
        from portal.catalog.pricing import terms_for
        from portal.extensions import db
        from portal.inventory.warehouses import serving_warehouse_ref
        from portal.organisations.models import Organisation

        organisation = db.session.get(Organisation, int(os.environ.get("BENCH_ORGANISATION", 1)))
        warehouse = serving_warehouse_ref(organisation)
        _BUYER.extend((terms_for(organisation.id), warehouse.id if warehouse else None))
    return _BUYER


@app.get("/bare")
def bare():
    with _engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar()
    return "ok", 200, {"Content-Type": "text/plain"}


@app.get("/search")
def search():
    from portal.catalog import search as portal_search
    from portal.extensions import db

    args = request.args
    filters = portal_search.SearchFilters(
        text=args.get("q", ""),
        category_id=args.get("category", type=int),
        manufacturer_id=args.get("manufacturer", type=int),
        rx=args.get("rx", ""),
        in_stock=bool(args.get("in_stock")),
        promotion=bool(args.get("promotion")),
        vital=bool(args.get("vital")),
        sort=args.get("sort", "name"),
    )
    page = max(1, args.get("page", 1, type=int))
    with portal().app_context():
        terms, warehouse_id = _buyer()
        found = portal_search._find(filters, page, terms, warehouse_id, date.today())
        rows = []
        if found.ids:
            rows = db.session.execute(
                text(
                    "SELECT i.id, i.trade_name, i.strength, i.sku, p.price"
                    " FROM catalog_items i LEFT JOIN catalog_item_prices p"
                    " ON p.item_id = i.id AND p.price_list_id ="
                    " (SELECT id FROM catalog_price_lists ORDER BY id LIMIT 1)"
                    " WHERE i.id = ANY(:ids)"
                ),
                {"ids": list(found.ids)},
            ).all()
        db.session.commit()
    by_id = {row[0]: row for row in rows}
    cells = "".join(
        f"<tr><td>{html.escape(r[1])}</td><td>{html.escape(r[2] or '')}</td>"
        f"<td>{html.escape(r[3])}</td><td>{r[4] if r[4] is not None else ''}</td></tr>"
        for r in (by_id[i] for i in found.ids if i in by_id)
    )
    return (
        f"<!doctype html><title>search</title><p>{found.total}</p><table>{cells}</table>",
        200,
    )
