"""flask seed-demo, flask demo-logins: the demo database `make run` serves."""

import click
from flask import current_app
from sqlalchemy import select

from portal import transactions
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_all
from portal.extensions import db


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database without users.")
def seed_demo(if_empty):
    """Load demo organisations, users, catalogue, orders, readings (idempotent)."""
    from portal.accounts.models import User

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run with PORTAL_ENV=production")
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("Database already has users; demo data not loaded.")
        return
    with transactions.unit_of_work():
        seed_all()
    click.echo("Demo data loaded.")


@click.command("demo-logins")
@click.option("--port", default=5000, show_default=True, help="The port `make run` serves on.")
def demo_logins(port):
    """Print the demo accounts."""
    from portal.accounts.models import User

    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for login, role in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.login == login)):
            click.echo(f"  {login:<15} {role}")
    click.echo(f"Open http://127.0.0.1:{port}\n")


def register(app):
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_logins)
