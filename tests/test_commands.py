"""Flask commands: one commands.py per package, attached by create_app's one loop."""

import ast
from pathlib import Path

from sqlalchemy import func, select

from portal import BLUEPRINT_MODULES, COMMAND_PACKAGES
from portal.accounts.models import StaffRole, User
from portal.audit import AuditEvent
from portal.extensions import db

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# Modules that still add commands outside a commands.py (their domains move them there).
# Remove an entry once its module no longer does; the test fails on an entry that is clean.
COMMANDS_ELSEWHERE_PENDING: set[str] = set()


def _adds_commands(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("add_command", "command"):
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr == "cli":
                return True  # app.cli.add_command, bp.cli.command
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "register"
            and isinstance(node.value, ast.Name)
            and node.value.id == "commands"
        ):
            return True  # commands.register(state.app) from a blueprint hook
    return False


def test_commands_are_added_only_by_commands_modules_and_the_loop():
    elsewhere = {
        str(path.relative_to(PORTAL.parent))
        for path in PORTAL.rglob("*.py")
        if path.name != "commands.py" and _adds_commands(path)
    }
    assert sorted(elsewhere - COMMANDS_ELSEWHERE_PENDING) == []
    assert sorted(COMMANDS_ELSEWHERE_PENDING - elsewhere) == []  # moved: drop the entry


def test_the_loop_attaches_every_packages_commands(app):
    packages = [name for name in [*BLUEPRINT_MODULES, *COMMAND_PACKAGES] if "." in name]
    with_commands = [
        name
        for name in packages
        if (PORTAL.parent / name.replace(".", "/") / "commands.py").is_file()
    ]
    assert {"portal.demo", "portal.system", "portal.billing", "portal.metering"} <= set(
        with_commands
    )
    names = set(app.cli.list_commands(app.app_context()))
    expected = {"seed-demo", "demo-logins", "backup", "restore-drill", "create-admin"}
    assert expected | {"post-gas-charges", "send-reading-reminders"} <= names


def test_create_admin_makes_one_administrator_and_refuses_a_taken_login(app):
    runner = app.test_cli_runner()
    args = ["create-admin", "--login", "root", "--email", "root@example.ru", "--name", "Админ"]
    result = runner.invoke(args=[*args, "--password", "Long-enough-43"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.login == "root"))
    assert admin.staff_role == StaffRole.ADMIN and admin.check_password("Long-enough-43")
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "staff.created")
        )
        == 1
    )
    again = runner.invoke(args=[*args, "--password", "Long-enough-43"])
    assert again.exit_code != 0 and "login root is taken" in again.output
    assert db.session.scalar(select(func.count(User.id)).where(User.login == "root")) == 1


def test_seed_demo_refuses_a_production_database(app):
    app.config["PORTAL_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["PORTAL_ENV"] = "development"
    assert result.exit_code != 0 and "refuses to run" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
