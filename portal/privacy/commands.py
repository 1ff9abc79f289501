"""flask privacy erase --user-id N, flask privacy retention [--dry-run] [--enqueue]."""

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from portal import transactions
from portal.accounts.models import User
from portal.errors import UserError
from portal.extensions import db
from portal.privacy import erasure, retention
from portal.privacy import requests as privacy_requests
from portal.privacy.requests import RequestKind, RequestStatus


@click.command("erase")
@click.option("--user-id", type=int, required=True, help="The account to anonymise.")
def erase_command(user_id):
    """Anonymise a person's data (accounting records stay); safe to run again."""
    user = db.session.get(User, user_id)
    if user is None:
        raise click.ClickException(f"no user with id {user_id}")
    try:
        with transactions.unit_of_work():
            # No request here to choose a language: messages in the portal's default one.
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                result = erasure.erase_user(user)
            for open_one in privacy_requests.open_requests_of(user, RequestKind.ERASURE):
                privacy_requests.close_request(
                    open_one, RequestStatus.DONE, "flask privacy erase", None
                )
    except UserError as refusal:
        raise click.ClickException(f"refused: {refusal.message}") from refusal
    if result.already_erased:
        click.echo(f"user {user_id} was already erased; nothing changed")
        return
    click.echo(f"user {user_id} erased:")
    for name, count in result.counts.items():
        click.echo(f"  {name}: {count}")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is past its period; change nothing.")
@click.option("--enqueue", is_flag=True, help="Hand the run to the background worker.")
def retention_command(dry_run, enqueue):
    """Delete or anonymise personal data past its retention period, per category."""
    if enqueue:
        if dry_run:
            raise click.UsageError("--enqueue runs the policy; use --dry-run without it")
        retention.enqueue_retention(current_app)
        click.echo("retention run queued for the worker")
        return
    report = retention.run_retention(dry_run=dry_run)
    if dry_run:
        click.echo("dry run: nothing changed")
    for line in report.lines():
        click.echo(line)


def register(app) -> None:
    """The `flask privacy` commands and the retention job (once per app)."""
    if app.extensions.get("privacy_commands"):
        return
    app.extensions["privacy_commands"] = True
    group = app.cli.commands.get("privacy")
    if group is None:
        group = AppGroup("privacy", help="Personal data: erasure and retention.")
        app.cli.add_command(group)
    group.add_command(erase_command)
    group.add_command(retention_command)
    retention.register_queue_task(app)
