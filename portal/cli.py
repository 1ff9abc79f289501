"""flask commands: seed-demo, demo-logins, create-admin, backup, restore-drill."""

import importlib

import click
from flask import current_app
from sqlalchemy import select

from portal.extensions import db

# Demo accounts exist only in development databases; `seed-demo` refuses to run in production.
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - a published demo password, not a secret
DEMO_ACCOUNTS = [
    ("buyer", "Pharmacy buyer (all powers)"),
    ("buyer.limited", "Pharmacy colleague (catalogue and prices only)"),
    ("gas", "Gas customer (all powers)"),
    ("manager", "Account manager"),
    ("admin", "Administrator"),
]
# Each domain's demo data, run in this order after the foundation's: "module:function".
DEMO_SEEDERS = [
    "portal.billing.demo:seed",
    "portal.catalog.demo:seed",
    "portal.orders.demo:seed",
    "portal.metering.demo:seed",
    "portal.billing.demo:issue_gas_documents",  # the gas months' УПД (also of an older demo)
    "portal.documents.demo:seed",
    "portal.tickets.demo:seed",
    "portal.billing.demo:send_reminders",  # last: reminds of the demo documents now overdue
]


def register(app):
    from portal.operations import backup_command, restore_drill_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_drill_command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_logins)
    app.cli.add_command(create_admin)
    from portal.files import commands as file_commands

    file_commands.register(app)  # storage-migrate, storage-orphans


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database without users.")
def seed_demo(if_empty):
    """Load demo organisations, users, applications (idempotent)."""
    from portal.accounts.models import User
    from portal.demo import seed

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run with PORTAL_ENV=production")
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("Database already has users; demo data not loaded.")
        return
    seed()
    for path in DEMO_SEEDERS:
        module, _, function = path.partition(":")
        getattr(importlib.import_module(module), function)()
    db.session.commit()
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


@click.command("create-admin")
@click.option("--login", required=True)
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.password_option()
def create_admin(login, email, full_name, password):
    """Create an administrator account (for a fresh production database)."""
    from portal.accounts.models import StaffRole, User
    from portal.audit import record

    if db.session.scalar(select(User.id).where(User.login == login)):
        raise click.ClickException(f"login {login} is taken")
    user = User(login=login, email=email, full_name=full_name, staff_role=StaffRole.ADMIN)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("staff.created", actor=None, target=user, role="admin", via="cli")
    db.session.commit()
    click.echo(f"Administrator {login} created.")
