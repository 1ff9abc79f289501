"""The billing room: the ledger, gas charges, shipments' charges, payments, adjustments, the
bank statement import and reconciliation statements.

Other domains post through the small API below (metering's gas months, orders' shipments)
and read balances through it; they never write ledger rows themselves.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

# isort: off
# organisations first: portal.navigation imports it, and it imports portal.navigation back.
from portal.organisations.models import Power
from portal.navigation import MenuItem, Panel, register_menu, register_panel

# isort: on

# cli_group=None: the commands are `flask worker`, `flask post-gas-charges`, not `flask billing …`.
bp = Blueprint("billing", __name__, cli_group=None)

GAS = ("gas",)


# --- the service API other domains call ------------------------------------------------------


def balance(organisation_id, **filters):
    """Debt (positive) or overpayment (negative) of an organisation (see ledger.balance)."""
    from portal.billing import ledger

    return ledger.balance(organisation_id, **filters)


def post_charge(organisation_id, amount, **fields):
    """Debit the customer (see ledger.post_charge)."""
    from portal.billing import ledger

    return ledger.post_charge(organisation_id, amount, **fields)


def post_shipment(order, staff_user, shipped_on=None):
    """Charge the customer for what an order shipped and issue its УПД (see
    shipments.post_shipment)."""
    from portal.billing import shipments

    return shipments.post_shipment(order, staff_user, shipped_on)


def shipment_of(order_id):
    """The shipment document (УПД) of an order, or None before it ships."""
    from portal.billing import shipments

    return shipments.shipment_of(order_id)


@bp.app_template_global("upd_of_order")
def upd_of_order(order_id):
    """The issued УПД of an order's shipment, or None (see primary.upd_of_order)."""
    from portal.billing import primary

    return primary.upd_of_order(order_id)


def issue_upd(order, staff_user):
    """Issue the УПД of an order's recorded shipment (see primary.issue_upd)."""
    from portal.billing import primary

    return primary.issue_upd(order, staff_user)


def post_gas_month(contract, period):
    """Charge one gas contract for one month, or post its recalculation (see gas)."""
    from portal.billing import gas

    return gas.post_gas_month(contract, period)


def deferred_order_refusal(organisation_id):
    """Why a new deferred-payment order is refused now (credit hold), or None."""
    from portal.billing import receivables

    return receivables.deferred_order_refusal(organisation_id)


@bp.app_template_global("vat_rate_today")
def vat_rate_today(category) -> str:
    """The VAT of a category as printed today («22 %», «Без НДС»), for catalogue pages."""
    from portal import clock
    from portal.billing import tax

    day = clock.local_today()
    row = tax.rate_row_on(category, day)
    return "—" if row is None else tax.rate_text(category, row.rate)


@bp.app_template_global("vat_category_label")
def vat_category_label(category) -> str:
    from portal.billing.models import VatCategory

    return str(VatCategory(category).label)


@bp.app_template_global("order_payment_qr")
def order_payment_qr(order, scale=3):
    """The payment QR of an order's invoice (see payment_qr.order_payment_qr), for templates."""
    from portal.billing import payment_qr

    return payment_qr.order_payment_qr(order, scale=scale)


@bp.app_template_global("qr_field_labels")
def qr_field_labels():
    from portal.billing import payment_qr

    return {key: str(label) for key, label in payment_qr.FIELD_LABELS.items()}


# --- wiring ------------------------------------------------------------------------------------


@bp.record_once
def _start_queue(state):
    from portal.billing.queue import init_queue

    init_queue(state.app)


def _statement_panel(membership):
    from portal.billing.statements import jobs_for

    jobs = jobs_for(membership.organisation_id, limit=1)
    return {"last_job": jobs[0] if jobs else None}


def _payments_panel(membership):
    from portal.billing.payment_status import summary

    return {"summary": summary(membership.organisation_id)}


register_menu(
    # Both kinds of customer: a pharmacy's shipments and payments, a plant's gas months.
    MenuItem(
        _l("Settlement account"),
        "billing.account",
        power=Power.VIEW_FINANCE,
        order=75,
        group="finance",
    )
)
register_menu(
    MenuItem(
        _l("Receivables"),
        "billing.receivables_report",
        staff=True,
        order=320,
        group="finance",
    )
)
register_menu(
    MenuItem(_l("Gas payments"), "billing.staff_payments", staff=True, order=310, group="finance")
)
register_menu(
    MenuItem(
        _l("Primary documents"),
        "billing.primary_documents",
        power=Power.VIEW_FINANCE,
        order=77,
        group="documents",
    )
)
register_menu(
    MenuItem(
        _l("Reconciliation"),
        "billing.request_statement",
        power=Power.VIEW_FINANCE,
        order=80,
        group="finance",
    )
)
register_menu(
    MenuItem(
        _l("VAT rates"),
        "billing.vat_rates",
        staff=True,
        admin_only=True,
        in_user_menu=True,
        order=830,
    )
)
register_panel(
    Panel(
        template="billing/statement_panel.html",
        context=_statement_panel,
        power=Power.VIEW_FINANCE,
        order=60,
    )
)
register_panel(
    Panel(
        template="billing/panel_payments.html",
        context=_payments_panel,
        power=Power.VIEW_FINANCE,
        order=12,
    )
)
