from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, register_menu

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")

register_menu(
    MenuItem(
        _l("Organisations"), "backoffice.list_organisations", staff=True, order=20, group="clients"
    )
)
register_menu(
    MenuItem(
        _l("Staff"),
        "backoffice.list_staff",
        staff=True,
        admin_only=True,
        in_user_menu=True,
        order=800,
    )
)
register_menu(
    MenuItem(
        _l("Offer agreement"),
        "backoffice.list_offers",
        staff=True,
        admin_only=True,
        in_user_menu=True,
        order=810,
    )
)
register_menu(
    MenuItem(
        _l("Audit log"),
        "backoffice.audit_log",
        staff=True,
        in_user_menu=True,
        order=820,
    )
)
register_menu(
    MenuItem(_l("Promotions"), "backoffice.list_promotions", staff=True, order=40, group="sales")
)
register_menu(
    MenuItem(_l("Catalogue items"), "backoffice.list_items", staff=True, order=45, group="sales")
)
