from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.navigation import MenuItem, register_menu
from portal.organisations.models import Power

bp = Blueprint("organisations", __name__, url_prefix="/organisation")

register_menu(MenuItem(_l("Company"), "organisations.details", order=900, in_user_menu=True))
register_menu(
    MenuItem(
        _l("Users"),
        "organisations.list_members",
        power=Power.MANAGE_USERS,
        order=910,
        in_user_menu=True,
    )
)
