"""Payments are allocated to what they pay: the contract or document named, else FIFO."""

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.billing import allocation, ledger
from portal.billing.models import LedgerEntry, PaymentAllocation
from portal.extensions import db
from tests.factories import login, make_organisation
from tests.metering.helpers import make_contract


def charge(org, amount, day, number, contract=None):
    return ledger.post_charge(
        org.id,
        amount,
        entry_date=day,
        description="Газ",
        document_number=number,
        contract_id=contract.id if contract else None,
        source_type="gas_charge",
    )


def pay(org, amount, day, number, purpose=None):
    return ledger.post_payment(
        org.id,
        amount,
        entry_date=day,
        description="Оплата",
        document_number=number,
        purpose=purpose,
    )


def shares(payment):
    return {a.charge.document_number: a.amount for a in allocation.allocations_of(payment)}


def two_contracts(gas_org):
    first = make_contract(gas_org, number="ГП-52-0118/23")
    second = make_contract(gas_org, number="ГП-52-0200/24")
    charge(gas_org, "1000.00", date(2026, 1, 31), "A-01", second)
    charge(gas_org, "300.00", date(2026, 1, 31), "B-01", first)
    charge(gas_org, "400.00", date(2026, 2, 28), "B-02", first)
    return first, second


def test_payment_naming_a_contract_pays_that_contracts_oldest_charges(gas_org):
    first, second = two_contracts(gas_org)
    payment = pay(
        gas_org, "500.00", date(2026, 3, 5), "11", "Оплата по договору ГП-52-0118/23 за газ"
    )
    assert payment.contract_id == first.id
    # FIFO inside the contract: January in full, February in part; the other contract untouched.
    assert shares(payment) == {"B-01": Decimal("300.00"), "B-02": Decimal("200.00")}
    assert allocation.open_charges(gas_org.id, contract_id=second.id)[0][1] == Decimal("1000.00")


def test_payment_naming_nothing_pays_the_organisations_oldest_charges(gas_org):
    two_contracts(gas_org)
    payment = pay(gas_org, "1100.00", date(2026, 3, 5), "12", "Оплата за газ")
    assert payment.contract_id is None
    assert shares(payment) == {"A-01": Decimal("1000.00"), "B-01": Decimal("100.00")}


def test_payment_naming_a_document_pays_it_first(gas_org):
    two_contracts(gas_org)
    payment = pay(gas_org, "450.00", date(2026, 3, 5), "13", "Оплата по счёту № B-02")
    assert shares(payment) == {"B-02": Decimal("400.00"), "B-01": Decimal("50.00")}


def test_advance_is_applied_to_the_next_charge_and_open_amount_is_known_at_any_date(gas_org):
    contract = make_contract(gas_org, number="ГП-1")
    payment = pay(gas_org, "1000.00", date(2026, 1, 10), "14", "по договору ГП-1")
    assert allocation.unallocated_total(gas_org.id) == Decimal("1000.00")
    january = charge(gas_org, "700.00", date(2026, 1, 31), "J", contract)
    february = charge(gas_org, "700.00", date(2026, 2, 28), "F", contract)
    assert shares(payment) == {"J": Decimal("700.00"), "F": Decimal("300.00")}
    assert allocation.unallocated_total(gas_org.id) == 0
    # On 20 January the money was still unallocated; on 31 January it paid January's charge.
    assert allocation.unallocated_total(gas_org.id, on=date(2026, 1, 20)) == Decimal("1000.00")
    assert allocation.open_amount(january, on=date(2026, 1, 31)) == 0
    assert allocation.open_amount(february, on=date(2026, 2, 27)) == 0  # not yet issued
    assert allocation.open_amount(february, on=date(2026, 2, 28)) == Decimal("400.00")


def test_manager_reallocates_a_payment_and_bad_allocations_are_refused(gas_org, manager, app):
    first, second = two_contracts(gas_org)
    payment = pay(gas_org, "500.00", date(2026, 3, 5), "15", "по договору ГП-52-0118/23")
    stranger = make_organisation("gas")
    foreign = charge(stranger, "100.00", date(2026, 1, 31), "X-1")
    a01 = db.session.scalar(select(LedgerEntry).where(LedgerEntry.document_number == "A-01"))
    b01 = db.session.scalar(select(LedgerEntry).where(LedgerEntry.document_number == "B-01"))
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    url = f"/backoffice/billing/payments/{payment.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Газ за январь 2026, УПД № A-01 от 31.01.2026" in page

    beyond = client.post(url, data={f"share-{a01.id}": "400", f"share-{b01.id}": "300"})
    assert beyond.status_code == 422
    assert "больше суммы платежа" in beyond.get_data(as_text=True)
    foreign_page = client.post(url, data={f"share-{foreign.id}": "50"})
    assert foreign_page.status_code == 422
    assert "только начисления своей организации" in foreign_page.get_data(as_text=True)
    db.session.expire_all()
    assert shares(payment) == {"B-01": Decimal("300.00"), "B-02": Decimal("200.00")}

    assert client.post(url, data={f"share-{a01.id}": "450"}).status_code == 302
    db.session.expire_all()
    assert shares(payment) == {"A-01": Decimal("450.00")}
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "billing.payment_reallocated")
    )
    assert event is not None and event.actor_id == manager.id
    # A manual allocation is left alone when the next charge is posted.
    charge(gas_org, "100.00", date(2026, 3, 31), "B-03", first)
    assert shares(payment) == {"A-01": Decimal("450.00")}


def test_customer_cannot_reach_the_allocation_page(login_as, gas_user, gas_org):
    payment = pay(gas_org, "10.00", date(2026, 3, 5), "16")
    db.session.commit()
    assert login_as(gas_user).get(f"/backoffice/billing/payments/{payment.id}").status_code == 403


def statement(text):
    return {"file": (io.BytesIO(text.encode("utf-8")), "statement.csv")}


def test_bank_import_reads_the_contract_and_lists_unreadable_lines(app, gas_org, manager, today):
    first, second = two_contracts(gas_org)
    stranger = make_organisation("gas")
    make_contract(stranger, number="ЧУЖ-1")
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    header = "payer_inn;amount;date;document_number;purpose\n"
    bad = (
        header
        + f"{gas_org.inn};300;20.11.2026;601;Оплата по договору ГП-52-0200/24\n"
        + "0000000000;10;20.11.2026;602;Оплата\n"
        + f"{gas_org.inn};20;20.11.2026;603;Оплата по договору ЧУЖ-1\n"
        + f"{gas_org.inn};20;20.11.2026;604;Оплата по счёту № 999-НЕТ\n"
    )
    page = staff.post("/backoffice/billing/payments", data=statement(bad)).get_data(as_text=True)
    assert "Нет клиента с ИНН 0000000000" in page
    assert "договор ЧУЖ-1, который не принадлежит плательщику" in page
    assert "договор или документ, которого у плательщика нет" in page
    assert db.session.scalar(select(func.count(PaymentAllocation.id))) == 0
    assert ledger.balance(gas_org.id) == Decimal("1700.00")  # nothing half-posted

    good = header + f"{gas_org.inn};300;20.11.2026;601;Оплата по договору ГП-52-0200/24\n"
    page = staff.post(
        "/backoffice/billing/payments", data=statement(good), follow_redirects=True
    ).get_data(as_text=True)
    assert "Загружено оплат: 1" in page and "договор ГП-52-0200/24" in page
    [payment] = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
    assert payment.contract_id == second.id and shares(payment) == {"A-01": Decimal("300.00")}


def test_allocate_payments_command_allocates_old_payments_once(app, gas_org):
    contract = make_contract(gas_org, number="ГП-9")
    # Rows as a database from before allocation holds them: no allocations at all.
    for kind, debit, credit, day, purpose in (
        ("charge", "800.00", "0", date(2026, 1, 31), None),
        ("charge", "800.00", "0", date(2026, 2, 28), None),
        ("payment", "0", "1000.00", date(2026, 3, 1), "Оплата по договору ГП-9"),
    ):
        db.session.add(
            LedgerEntry(
                organisation_id=gas_org.id,
                contract_id=contract.id if kind == "charge" else None,
                kind=kind,
                entry_date=day,
                description=kind,
                debit=Decimal(debit),
                credit=Decimal(credit),
                purpose=purpose,
            )
        )
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["allocate-payments"])
    assert first.exit_code == 0 and "allocations made: 2" in first.output
    again = runner.invoke(args=["allocate-payments"])
    assert again.exit_code == 0 and "allocations made: 0" in again.output
    payment = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
    assert payment.contract_id == contract.id
    assert allocation.unallocated_total(gas_org.id) == 0
    assert db.session.scalar(select(func.sum(PaymentAllocation.amount))) == Decimal("1000.00")


def test_staff_payment_form_refuses_a_purpose_naming_what_the_payer_lacks(
    app, gas_org, manager, today
):
    two_contracts(gas_org)
    db.session.commit()
    staff = app.test_client()
    login(staff, manager)
    url = f"/backoffice/billing/organisations/{gas_org.id}/payments"
    data = {
        "amount": "100",
        "entry_date": "2026-11-10",
        "document_number": "90",
        "contract_id": 0,
        "purpose": "Оплата по договору ГП-00-0000/00",
    }
    refused = staff.post(url, data=data)
    assert refused.status_code == 422
    assert "которого у плательщика нет" in refused.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "payment"))
        == 0
    )
    data["purpose"] = "Оплата по договору ГП-52-0200/24"
    assert staff.post(url, data=data).status_code == 302
    payment = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
    assert shares(payment) == {"A-01": Decimal("100.00")}
