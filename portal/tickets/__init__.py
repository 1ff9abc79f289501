"""Requests («обращения») from customers: typed forms, statuses with history, comments, attachments.

Named `tickets` so it never clashes with the `requests` library or `flask.request`.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

# isort: off
# organisations first: portal.navigation imports it, and it imports portal.navigation back.
from portal.organisations.models import Power
from portal.navigation import MenuItem, Panel, register_menu, register_panel
from portal.documents.subjects import register_subject

# isort: on

bp = Blueprint("tickets", __name__)


def _ticket_label(organisation_id, ticket_id):
    from portal.tickets.services import ticket_label

    return ticket_label(organisation_id, ticket_id)


def _open_tickets_panel(membership):
    from portal.tickets.services import open_tickets_for

    return {"tickets": open_tickets_for(membership.organisation_id)}


def _staff_tickets_panel(_membership):
    from portal.tickets.services import staff_open_counts

    return staff_open_counts()


register_subject("ticket", _ticket_label, _l("Request"))
register_menu(
    MenuItem(
        _l("Requests"),
        "tickets.list_tickets",
        power=Power.CREATE_REQUESTS,
        order=70,
        group="service",
    )
)
register_menu(
    MenuItem(_l("Customer requests"), "tickets.staff_queue", staff=True, order=42, group="clients")
)
register_panel(
    Panel(
        template="tickets/panel_open.html",
        context=_open_tickets_panel,
        power=Power.CREATE_REQUESTS,
        order=50,
    )
)
register_panel(
    Panel(template="tickets/panel_staff.html", context=_staff_tickets_panel, staff=True, order=50)
)
