"""The operator's commands: flask backup, flask restore-drill, flask create-admin."""

from pathlib import Path

import click
from sqlalchemy import select

from portal import transactions
from portal.extensions import db


@click.command("backup")
@click.option("--to", "target", required=True, type=click.Path(path_type=Path))
def backup_command(target):
    """Back up the database and the uploads into a folder."""
    from portal.operations import backup

    with transactions.unit_of_work():  # reads only; the same rule as every command
        manifest = backup(target)
    rows = sum(count for count, _ in manifest["tables"].values())
    click.echo(
        f"Backup written to {target}: {len(manifest['tables'])} tables, {rows} rows, "
        f"{len(manifest['uploads'])} uploaded files."
    )


@click.command("restore-drill")
@click.option(
    "--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def restore_drill_command(source):
    """Restore a backup into a scratch database, compare it, check that it serves."""
    from portal.operations import restore_drill

    with transactions.unit_of_work():
        problems = restore_drill(source)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException("restore drill FAILED")
    click.echo("Restore drill passed: every table and file matches, the restored copy serves.")


@click.command("create-admin")
@click.option("--login", required=True)
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.password_option()
def create_admin(login, email, full_name, password):
    """Create an administrator account (for a fresh production database)."""
    from portal.accounts.models import StaffRole, User
    from portal.audit import record

    with transactions.unit_of_work():
        if db.session.scalar(select(User.id).where(User.login == login)):
            raise click.ClickException(f"login {login} is taken")
        user = User(login=login, email=email, full_name=full_name, staff_role=StaffRole.ADMIN)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        record("staff.created", actor=None, target=user, role="admin", via="cli")
    click.echo(f"Administrator {login} created.")


def register(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_drill_command)
    app.cli.add_command(create_admin)
