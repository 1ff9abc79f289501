from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, Panel, register_menu, register_panel
from portal.organisations.models import PHARMACY_KINDS

bp = Blueprint("catalog", __name__)

register_menu(
    # Shown to the kinds the routes declare (access.customer_of(PHARMACY_KINDS)).
    MenuItem(_l("Catalogue"), "catalog.list_items", order=30, group="purchasing")
)
register_menu(
    MenuItem(
        _l("Promotions"),
        "catalog.list_promotions",
        order=35,
        group="purchasing",
    )
)
register_menu(
    MenuItem(
        _l("Catalogue import"),
        "catalog.import_catalog",
        staff=True,
        admin_only=True,
        order=60,
        group="catalogue",
    )
)
register_menu(
    MenuItem(
        _l("Item certificates"),
        "catalog.certificate_items",
        staff=True,
        order=61,
        group="catalogue",
    )
)


def _promotions_panel(_membership):
    from portal.catalog.pricing import active_promotions

    promotions = active_promotions(limit=5)
    return {"promotions": promotions} if promotions else None


register_panel(
    Panel(
        template="catalog/panel_promotions.html",
        context=_promotions_panel,
        kinds=PHARMACY_KINDS,
        order=12,
    )
)
