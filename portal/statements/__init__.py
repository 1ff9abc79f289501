"""Reconciliation statements: requested on a page, produced by a background worker."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

# isort: off
# organisations first: portal.navigation imports it, and it imports portal.navigation back.
from portal.organisations.models import Power
from portal.navigation import MenuItem, Panel, register_menu, register_panel

# isort: on

# cli_group=None: the worker is `flask worker`, not `flask statements worker`.
bp = Blueprint("statements", __name__, url_prefix="/statements", cli_group=None)


@bp.record_once
def _start_queue(state):
    from portal.statements.queue import init_queue

    init_queue(state.app)


def _statement_panel(membership):
    from portal.statements.services import jobs_for

    jobs = jobs_for(membership.organisation_id, limit=1)
    return {"last_job": jobs[0] if jobs else None}


register_menu(
    MenuItem(
        _l("Reconciliation"), "statements.request_statement", power=Power.VIEW_FINANCE, order=80
    )
)
register_panel(
    Panel(
        template="statements/panel.html",
        context=_statement_panel,
        power=Power.VIEW_FINANCE,
        order=60,
    )
)
