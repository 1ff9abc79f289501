"""Billing's demo data for `flask seed-demo`: the statutory VAT rates (idempotent)."""

from portal.billing import tax


def seed():
    # Before catalogue, orders and metering: every demo document is taxed at its dated rate.
    tax.ensure_statutory_rates()
