"""flask post-gas-charges (monthly by cron), flask allocate-payments (once after the
upgrade to 0017, for payments recorded before allocation existed) and flask billing remind
(daily by cron); all safe to run again. Each runs in one unit of work: committed at its end,
rolled back when it fails or is a dry run."""

from contextlib import contextmanager
from datetime import datetime

import click
from flask import current_app

from portal import transactions
from portal.billing import statements
from portal.billing.queue import statement_queue
from portal.errors import UserError


class _DryRun(Exception):
    """Ends a dry run's unit of work: what it would have written is rolled back."""


@contextmanager
def _unit_of_work(dry_run=False):
    try:
        with transactions.unit_of_work():
            yield
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except UserError as error:  # rolled back; the operator reads why
        raise click.ClickException(str(error.message)) from error


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

    with _unit_of_work():
        outcomes = gas.post_gas_charges(_month(period))
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

    with _unit_of_work(dry_run):
        report = run(_day(since), _day(until) if until else None, dry_run=dry_run)
    heading = "Would post" if dry_run else "Posted"
    click.echo(f"{heading}: {len(report.posted)} correction(s), VAT {report.total}")
    for line in report.posted:
        click.echo(f"  + {line.document} ({line.organisation}): VAT {line.amount}")
    click.echo(f"Skipped: {len(report.skipped)}")
    for line in report.skipped:
        click.echo(f"  - {line.document} ({line.organisation}): {line.reason}")


@click.command("issue-gas-upd")
def issue_gas_upd():
    """Issue the monthly УПД of posted gas charges that have none yet (safe to run again)."""
    from portal.billing import gas_upd

    with _unit_of_work():
        issued = gas_upd.issue_missing_gas_upds()
    click.echo(f"gas УПД issued: {issued}")


@click.command("allocate-payments")
def allocate_payments():
    """Allocate every payment's unallocated money to open charges (safe to run again)."""
    from portal.billing import allocation

    with _unit_of_work():
        made = allocation.allocate_all()
    for organisation_id, count in made.items():
        click.echo(f"organisation {organisation_id}: {count} allocation(s) made")
    click.echo(f"allocations made: {sum(made.values())}")


@click.group("billing")
def billing_group():
    """Receivables: payment reminders."""


@billing_group.command("remind")
@click.option("--dry-run", is_flag=True, help="List the digests that would go out; send nothing.")
@click.option("--on", "on_date", default=None, help="Run as if today were YYYY-MM-DD.")
def remind(dry_run, on_date):
    """Send today's payment reminder digests (daily by cron; safe to run again)."""
    from portal.billing.reminders import send_payment_reminders

    today = _day(on_date) if on_date else None
    base_url = current_app.config["PORTAL_BASE_URL"]
    with current_app.test_request_context(base_url=base_url), _unit_of_work(dry_run):
        digests = send_payment_reminders(today, dry_run=dry_run)
    heading = "Would send" if dry_run else "Sent"
    click.echo(f"{heading}: {len(digests)} digest(s)")
    for digest in digests:
        emails = ", ".join(user.email for user in digest.recipients)
        click.echo(
            f"  {digest.organisation.legal_name}: {len(digest.documents)} document(s), "
            f"overdue {digest.overdue_total}, open {digest.open_total} -> {emails}"
        )


@click.command("worker")
# One thread: rendering is CPU-bound (threads add nothing under the GIL) and WeasyPrint's
# C bindings are safest used from one thread; run more worker processes for throughput.
@click.option("--workers", default=1, show_default=True, help="Worker threads.")
def worker(workers):
    """Run the background worker: statements, and the payment reminders every morning."""
    queue = statement_queue(current_app)
    queue.huey.immediate = False
    with transactions.unit_of_work():
        requeue = statements.recover_all_stalled()  # jobs of a worker that was killed
    for job_id in requeue:
        queue.enqueue(job_id)
    click.echo(f"statement worker: {type(queue.huey).__name__}, {workers} thread(s)")
    # periodic: the morning run of the payment reminders (at most one digest a day, however
    # many workers run it).
    queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


def register(app):
    app.cli.add_command(worker)
    app.cli.add_command(billing_group)
    app.cli.add_command(post_gas_charges)
    app.cli.add_command(correct_vat)
    app.cli.add_command(allocate_payments)
    app.cli.add_command(issue_gas_upd)
