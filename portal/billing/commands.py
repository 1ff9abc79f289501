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


def _day(value: str):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 2026-01-01") from error


@click.command("correct-vat")
@click.option(
    "--from", "since", required=True, help="First tax date to check, YYYY-MM-DD (e.g. 2026-01-01)."
)
@click.option("--to", "until", default=None, help="Last tax date to check (default: today).")
@click.option("--dry-run", is_flag=True, help="List what would be posted; post nothing.")
def correct_vat(since, until, dry_run):
    """Post VAT corrections for gas months and shipments taxed at a rate not in force."""
    from portal.billing.corrections import correct_vat as run

    report = run(_day(since), _day(until) if until else None, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    heading = "Would post" if dry_run else "Posted"
    click.echo(f"{heading}: {len(report.posted)} correction(s), VAT {report.total}")
    for line in report.posted:
        click.echo(f"  + {line.document} ({line.organisation}): VAT {line.amount}")
    click.echo(f"Skipped: {len(report.skipped)}")
    for line in report.skipped:
        click.echo(f"  - {line.document} ({line.organisation}): {line.reason}")


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
    app.cli.add_command(correct_vat)
    app.cli.add_command(allocate_payments)
