import gc

from sqlalchemy import func, select

from portal import clock
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


def test_demo_buyer_has_an_order_history_in_every_stage(app):
    from portal.billing.ledger import LedgerEntry
    from portal.orders.models import Order, OrderStatus

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    orders = db.session.scalars(select(Order).order_by(Order.created_at)).all()
    statuses = [o.status for o in orders]
    for status in (OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.SHIPPED):
        assert status.value in statuses
    assert statuses.count(OrderStatus.DELIVERED.value) == 3
    # One deferred shipment is a week overdue: on the receivables report and reminded today.
    from portal.billing.models import PaymentReminder
    from portal.billing.receivables import open_documents

    pharmacy_id = orders[0].organisation_id
    overdue = [d for d in open_documents(pharmacy_id) if d.is_overdue]
    # A week overdue (or 1, 14, 30 days when the day a week ago was a day off: reminder days).
    (first,) = [d for d in overdue if d.order_id == orders[0].id]
    assert first.days_overdue == (clock.local_today() - first.due_date).days
    assert first.days_overdue in (7, 1, 14, 30)
    reminder = db.session.scalar(select(PaymentReminder))
    assert reminder.organisation_id == pharmacy_id
    assert orders[0].number in [d["number"] for d in reminder.documents]
    # Made through the real services: every shipped order is charged on the account once.
    charged = db.session.scalars(
        select(LedgerEntry.source_id).where(LedgerEntry.source_type == "order")
    ).all()
    shipped = [o.id for o in orders if o.status in ("shipped", "delivered")]
    assert sorted(charged) == sorted(shipped)
    client = app.test_client()
    login(client, "buyer", "demo-portal-2026")
    client.post("/offer", data={"accept": "y"})
    client.post("/privacy/consent", data={"version": "1", "accept": "y"})  # like the offer
    response = client.get("/orders")
    assert response.status_code == 200, response.headers.get("Location")
    page = response.get_data(as_text=True)
    assert all(o.number in page for o in orders)


def test_seed_demo_works_while_its_new_objects_are_still_in_memory(app):
    """Seeders share one transaction: a later one (orders) must find the values an earlier one
    set (the credit limit) usable as they are, before any reload from the database. With the
    garbage collector off nothing is reloaded, as on a quiet run."""
    gc.disable()
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        gc.enable()
    assert result.exception is None and "Demo data loaded" in result.output


def test_demo_gas_payments_name_their_contract_and_appear_on_its_statement(app):
    from datetime import date

    from portal.billing import allocation
    from portal.billing.ledger import LedgerEntry
    from portal.billing.statements import build_statement
    from portal.demo.metering import DEMO_INN
    from portal.metering.models import Contract
    from portal.organisations.models import Organisation

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    plant = db.session.scalar(select(Organisation).where(Organisation.inn == DEMO_INN))
    payments = db.session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == plant.id, LedgerEntry.kind == "payment"
        )
    ).all()
    assert payments and all(payment.contract_id is not None for payment in payments)
    contract = db.session.scalar(select(Contract).where(Contract.organisation_id == plant.id))
    assert all(contract.number in p.purpose for p in payments if p.contract_id == contract.id)
    # The plant pays every month: its contract's statement shows the payments, no made-up debt.
    last = max(payment.entry_date for payment in payments)
    statement = build_statement(plant.id, date(last.year, 1, 1), last, contract.id)
    assert any(line.document.startswith("Оплата, платёжное поручение") for line in statement.lines)
    assert allocation.unallocated_total(plant.id) == 0
    assert statement.closing < max(line.debit for line in statement.lines) * 2


def test_the_demo_medicine_list_is_a_catalogue_file_the_staff_import_accepts(app):
    from portal.catalog import importer
    from portal.catalog.models import Item
    from portal.demo.catalog import MEDICINES_FILE

    with app.test_request_context():
        report = importer.import_catalog(
            MEDICINES_FILE.name, MEDICINES_FILE.read_bytes(), dry_run=True
        )
    assert (report.created, report.updated, report.rejected) == (262, 0, [])
    assert db.session.scalar(select(func.count(Item.id))) == 0  # a dry run writes nothing


def test_demo_plant_has_this_years_agreed_plan_and_a_change_awaiting_the_manager(app):
    from portal import clock
    from portal.metering import plans
    from portal.metering.models import Contract, PlanRequest

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    contract = db.session.scalar(select(Contract).where(Contract.number == "ГП-52-0117/23"))
    year = clock.local_today().year
    plan = plans.agreed_plan(contract.id, year)
    assert len(plan) == 12 and all(volume > 0 for volume in plan.values())
    pending = db.session.scalars(
        select(PlanRequest).where(
            PlanRequest.contract_id == contract.id, PlanRequest.status == "pending"
        )
    ).all()
    assert [request.kind for request in pending] == ["change"]
    client = app.test_client()
    login(client, "manager", "demo-portal-2026")
    listing = client.get("/backoffice/metering/plans").get_data(as_text=True)
    assert f"/backoffice/metering/plan-requests/{pending[0].id}" in listing
