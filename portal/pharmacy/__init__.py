"""Pharmacy depth: series and expiry per shipped line, recalls of a series (issue 19).

Customer pages under /pharmacy/ and the order's series XLSX; staff pages under
/backoffice/pharmacy/. The УПД prints a line's series and expiry through the billing hook
(portal.billing.primary.register_line_details); the recall notices are a dashboard panel.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.billing.primary import register_line_details
from portal.navigation import MenuItem, Panel, register_menu, register_panel
from portal.organisations.models import PHARMACY_KINDS, Power

bp = Blueprint("pharmacy", __name__)


def _upd_line_details(order_line_ids):
    from portal.pharmacy.series import upd_line_details

    return upd_line_details(order_line_ids)


def _recalls_panel(membership):
    from portal.pharmacy.recalls import open_notices

    notices = open_notices(membership.organisation_id)
    return {"notices": notices} if notices else None


register_line_details(_upd_line_details)
register_menu(
    MenuItem(_l("Series recalls"), "pharmacy.staff_recalls", staff=True, order=27, group="sales")
)
register_panel(
    Panel(
        template="pharmacy/panel_recalls.html",
        context=_recalls_panel,
        power=Power.ORDER,
        kinds=PHARMACY_KINDS,
        order=5,
    )
)
