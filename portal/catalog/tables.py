"""A catalogue table (search results, favourites): the rows of `catalog/_items.html`.

Rendered afresh for every request: it shows the buyer's own prices, stock and favourite stars
and carries their form token, so nothing of it is kept (portal/caching.py lists what is).
"""

from flask import get_template_attribute, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

TEMPLATE = "catalog/_items.html"


def items_table(items, *, show_prices: bool, can_order: bool, short_life=None) -> Markup:
    """`short_life`: {item id: ShelfLife} of the items flagged for little shelf life left."""
    macro = get_template_attribute(TEMPLATE, "items_table")
    return macro(
        items, show_prices, can_order, generate_csrf(), request.full_path, short_life or {}
    )
