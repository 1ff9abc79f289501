"""flask post-gas-charges (monthly by cron) and flask allocate-payments (once after the
upgrade to 0017, for payments recorded before allocation existed); both safe to run again."""

from datetime import datetime

import click

from portal.billing.errors import BillingError
from portal.extensions import db


def _month(value: str):
    try:
        return datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-03") from error


@click.command("post-gas-charges")
@click.option("--period", required=True, help="The month to charge, YYYY-MM.")
def post_gas_charges(period):
    """Post the monthly gas charges to the ledger (safe to run again)."""
    from portal.billing import gas

    try:
        outcomes = gas.post_gas_charges(_month(period))
    except BillingError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    for outcome in outcomes:
        click.echo(f"{outcome.contract.number}: {outcome.status} {outcome.amount}")


@click.command("allocate-payments")
def allocate_payments():
    """Allocate every payment's unallocated money to open charges (safe to run again)."""
    from portal.billing import allocation

    made = allocation.allocate_all()
    db.session.commit()
    for organisation_id, count in made.items():
        click.echo(f"organisation {organisation_id}: {count} allocation(s) made")
    click.echo(f"allocations made: {sum(made.values())}")


def register(app):
    app.cli.add_command(post_gas_charges)
    app.cli.add_command(allocate_payments)
