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
