"""flask send-reading-reminders: run daily by cron or the worker."""

from datetime import datetime

import click
from flask import current_app

from portal import transactions


def _month(value: str):
    try:
        return datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-03") from error


@click.command("send-reading-reminders")
@click.option("--date", "on_date", help="Pretend today is YYYY-MM-DD (for testing).")
@click.option("--days-before", type=int, default=None, help="Days before the window closes.")
def send_reading_reminders(on_date, days_before):
    """E-mail customers whose meters still lack this month's reading."""
    from portal.metering import reminders

    today = datetime.strptime(on_date, "%Y-%m-%d").date() if on_date else None  # noqa: DTZ007
    # Mail templates use url_for and the page context: give them a request on the public URL.
    with (
        current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]),
        transactions.unit_of_work(),
    ):
        sent = reminders.send_reading_reminders(today, days_before=days_before)
    click.echo(f"Reminders sent: {sent}")


@click.command("send-plan-warnings")
@click.option("--date", "on_date", help="Pretend today is YYYY-MM-DD (for testing).")
def send_plan_warnings(on_date):
    """Warn customers and their managers of months heading over the agreed plan (daily)."""
    from portal.metering import plan_actual

    today = datetime.strptime(on_date, "%Y-%m-%d").date() if on_date else None  # noqa: DTZ007
    with (
        current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]),
        transactions.unit_of_work(),
    ):
        warned = plan_actual.send_plan_warnings(today)
    click.echo(f"Contracts warned: {warned}")


def register(app):
    app.cli.add_command(send_reading_reminders)
    app.cli.add_command(send_plan_warnings)
