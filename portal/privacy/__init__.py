"""Personal data (152-ФЗ): separate versioned consents, their acceptance and withdrawal, and the
operator's published policy."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, register_menu

bp = Blueprint("privacy", __name__)

register_menu(
    MenuItem(
        _l("Consents and policy"),
        "privacy.list_versions",
        staff=True,
        admin_only=True,
        in_user_menu=True,
        order=815,
    )
)
register_menu(MenuItem(_l("My consents"), "privacy.my_consents", in_user_menu=True, order=790))
