from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.onboarding.models import Application
from tests.factories import login


def test_seed_demo_is_idempotent_and_the_demo_logins_work(app):
    runner = app.test_cli_runner()
    assert "Demo data loaded" in runner.invoke(args=["seed-demo"]).output
    users = db.session.scalar(select(func.count(User.id)))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count(User.id))) == users
    assert "already has users" in runner.invoke(args=["seed-demo", "--if-empty"]).output
    assert db.session.scalar(select(func.count(Application.id))) == 3
    output = runner.invoke(args=["demo-logins"]).output
    for name in ("buyer", "gas", "manager", "admin"):
        assert name in output
        client = app.test_client()
        login(client, name, "demo-portal-2026")
        assert client.get("/", follow_redirects=True).status_code == 200
