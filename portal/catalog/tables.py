"""A catalogue table (search results, favourites) rendered once for the same rows.

A search page spends more time rendering its 24 rows (name, badges, stock, price and an
add-to-cart form each) than reading them. The rows themselves are read afresh on every
request: stock, prices and favourites are never kept. What each process keeps, for
CATALOG_CACHE_SECONDS and compressed (~2 KB a page), is the HTML rendered from exactly those
rows, in that language, for the same powers: the rows are the key (a digest of them), so a
pack sold, a price changed or a star added makes another key and a fresh rendering, and
nothing kept can go out of date. The form token (one per session) and the page's own
address differ between buyers who see the same rows: the table is rendered with markers in
their place, and every request puts its own back. PORTAL_CATALOG_CACHE_SECONDS=0 (no
caching) renders every table anew, and so does a development server that reloads templates.
"""

import hashlib
import zlib

from flask import current_app, get_template_attribute, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.extensions import local_cache

TEMPLATE = "catalog/_items.html"
# Markers no row can contain: every value from the catalogue is escaped, so a «<» in the
# rendered table comes from the template itself.
TOKEN_MARK = Markup("<!--form-token-->")
HERE_MARK = Markup("<!--this-page-->")


def items_table(items, *, show_prices: bool, can_order: bool) -> Markup:
    seconds = current_app.config["CATALOG_CACHE_SECONDS"]
    if not seconds or current_app.jinja_env.auto_reload:
        html = _render(items, show_prices, can_order)
    else:
        described = repr((str(get_locale()), show_prices, can_order, items))
        key = "catalog:table:" + hashlib.sha256(described.encode()).hexdigest()
        kept = local_cache.get(key)
        if kept is None:
            html = _render(items, show_prices, can_order)
            local_cache.set(key, zlib.compress(html.encode(), 1), timeout=seconds)
        else:
            html = zlib.decompress(kept).decode()
    table = Markup(html)  # noqa: S704 - the template's own output, kept as it was rendered
    return table.replace(TOKEN_MARK, escape(generate_csrf())).replace(
        HERE_MARK, escape(request.full_path)
    )


def _render(items, show_prices, can_order) -> str:
    macro = get_template_attribute(TEMPLATE, "items_table")
    return str(macro(items, show_prices, can_order, TOKEN_MARK, HERE_MARK))
