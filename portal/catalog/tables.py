"""A catalogue table (search results, favourites) rendered once for the same rows.

A search page spends more time rendering its 24 rows (name, badges, stock, price and an
add-to-cart form each) than reading them. The rows themselves are read afresh on every
request: stock, prices and favourites are never kept. What is kept, in the cache and for
CATALOG_CACHE_SECONDS, is the HTML rendered from exactly those rows, in that language, for
the same powers: a pack sold, a price changed or a star added makes other rows, so another
key and a fresh rendering. The form token (one per session) and the page's own address
differ between buyers who see the same rows: the table is rendered with markers in their
place, and every request puts its own back.
"""

import functools
import hashlib
import zlib

from flask import current_app, get_template_attribute, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.extensions import cache

TEMPLATE = "catalog/_items.html"
# Markers no row can contain: every value from the catalogue is escaped, so a «<» in the
# rendered table comes from the template itself.
TOKEN_MARK = Markup("<!--form-token-->")
HERE_MARK = Markup("<!--this-page-->")


def items_table(items, *, show_prices: bool, can_order: bool) -> Markup:
    seconds = current_app.config["CATALOG_CACHE_SECONDS"]
    key = _key(items, show_prices, can_order)
    kept = cache.get(key) if seconds else None
    if kept is not None:
        html = zlib.decompress(kept).decode()
    else:
        macro = get_template_attribute(TEMPLATE, "items_table")
        html = str(macro(items, show_prices, can_order, TOKEN_MARK, HERE_MARK))
        if seconds:  # a page of 24 rows: ~29 KB of markup, ~2 KB compressed
            cache.set(key, zlib.compress(html.encode(), 1), timeout=seconds)
    table = Markup(html)  # noqa: S704 - the template's own output, kept as it was rendered
    return table.replace(TOKEN_MARK, escape(generate_csrf())).replace(
        HERE_MARK, escape(request.full_path)
    )


def _key(items, show_prices, can_order) -> str:
    described = repr((_template_version(), str(get_locale()), show_prices, can_order, items))
    return "catalog:table:" + hashlib.sha256(described.encode()).hexdigest()[:32]


@functools.cache
def _template_version() -> str:
    """The template's own text is part of the key: a new release never gets old HTML."""
    source, _filename, _uptodate = current_app.jinja_env.loader.get_source(
        current_app.jinja_env, TEMPLATE
    )
    return hashlib.sha256(source.encode()).hexdigest()[:16]
