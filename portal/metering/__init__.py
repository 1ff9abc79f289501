"""Gas customers: contracts, metering points, monthly readings, settlement account."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.documents.subjects import register_subject
from portal.navigation import MenuItem, Panel, register_menu, register_panel
from portal.organisations.models import GAS_KINDS, Power

# The customer's pages (customer_views.py) and the staff's (staff_views.py).
bp = Blueprint("metering", __name__, url_prefix="/metering")
staff_bp = Blueprint("metering_staff", __name__, url_prefix="/backoffice/metering")


def _customer_panel(membership):
    from portal import billing
    from portal.metering import readings

    can_submit = membership.has(Power.SUBMIT_READINGS)
    can_see_money = membership.has(Power.VIEW_FINANCE)
    if not (can_submit or can_see_money):
        return None
    context = readings.gas_panel_summary(membership.organisation_id) if can_submit else {}
    context["can_submit"] = can_submit
    context["balance"] = billing.balance(membership.organisation_id) if can_see_money else None
    return context


def _staff_panel(_membership):
    from portal.metering import corrections

    return {"to_review": corrections.count_to_review()}


register_menu(
    MenuItem(
        _l("Readings"),
        "metering.submit_readings",
        power=Power.SUBMIT_READINGS,
        order=300,
        group="gas",
    )
)
register_menu(
    MenuItem(
        _l("Meters"),
        "metering.list_meters",
        power=Power.SUBMIT_READINGS,
        order=310,
        group="gas",
    )
)
register_menu(
    MenuItem(
        _l("Planned volumes"),
        "metering.plans_index",
        power=Power.SUBMIT_READINGS,
        order=320,
        group="gas",
    )
)
register_menu(
    MenuItem(
        _l("Plan requests"), "metering_staff.plan_requests", staff=True, order=305, group="gas"
    )
)
register_menu(
    MenuItem(_l("Gas readings"), "metering_staff.review", staff=True, order=300, group="gas")
)
register_panel(
    Panel(
        template="metering/panel_customer.html", context=_customer_panel, kinds=GAS_KINDS, order=50
    )
)
register_panel(
    Panel(template="metering/panel_staff.html", context=_staff_panel, staff=True, order=50)
)


@bp.app_template_filter("volume")
def volume_filter(value):
    from portal.formatting import format_volume

    return format_volume(value)


def _contract_label(organisation_id, contract_id):
    """Tickets and uploads may refer to one of the organisation's gas contracts."""
    from portal.extensions import db
    from portal.metering.models import Contract

    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.organisation_id != organisation_id:
        return None
    return _l("Contract %(number)s", number=contract.number)


def _contract_by_number(organisation_id, number):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.metering.models import Contract

    return db.session.scalar(
        select(Contract.id).where(
            Contract.organisation_id == organisation_id, Contract.number == number
        )
    )


register_subject("contract", _contract_label, _l("Contract"), find_by_number=_contract_by_number)

# Billing knows contracts by id; this registers how it reads one (portal.billing.lookups).
from portal.metering import billing_lookups  # noqa: E402, F401
