from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, register_menu

bp = Blueprint("onboarding", __name__)

register_menu(
    MenuItem(
        _l("Applications"), "onboarding.list_applications", staff=True, order=10, group="clients"
    )
)
