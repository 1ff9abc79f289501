"""Billing's demo data for `flask seed-demo`: the statutory VAT rates (idempotent), and after
the other domains' data the day's payment reminders (the demo pharmacy has an overdue УПД)."""

from flask import current_app

from portal.billing import tax


def seed():
    # Before catalogue, orders and metering: every demo document is taxed at its dated rate.
    tax.ensure_statutory_rates()


def send_reminders():
    """Send today's payment reminder digests, as the daily cron run would (once a day)."""
    from portal.billing.reminders import send_payment_reminders

    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        send_payment_reminders()


# The demo foundry's contract is one of those that require an «Акт приёма-передачи газа».
DEMO_ACT_CONTRACT = "ГП-52-0118/23"


def issue_gas_documents():
    """The monthly УПД of every posted gas month that has none (a demo database seeded before
    the gas УПД existed gets them too; safe to run again)."""
    from sqlalchemy import select

    from portal.billing import gas_upd
    from portal.extensions import db
    from portal.metering.models import Contract

    contract = db.session.scalar(select(Contract).where(Contract.number == DEMO_ACT_CONTRACT))
    if contract is not None and not contract.gas_act_required:
        contract.gas_act_required = True
    gas_upd.issue_missing_gas_upds()
