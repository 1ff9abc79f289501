"""The settlement account page (both kinds of customer), its XLSX, and the per-contract act."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from portal.billing import ledger, rendering
from portal.billing.statements import build_statement
from portal.extensions import db
from tests.billing.test_statements import act_table, jobs, pdf_table, pdf_text, request, xlsx_rows
from tests.documents.files import download
from tests.metering.helpers import make_contract


def gas_month(org, contract, day, total, vat):
    return ledger.post_charge(
        org.id,
        total,
        entry_date=day,
        description="Газ",
        document_number=f"{contract.number}/{day:%Y-%m}",
        vat_amount=vat,
        contract_id=contract.id,
        source_type="gas_charge",
    )


def pay(org, amount, day, number, purpose):
    return ledger.post_payment(
        org.id,
        amount,
        entry_date=day,
        description="Оплата",
        document_number=number,
        purpose=purpose,
    )


def gas_year(gas_org):
    """Two contracts; the customer pays the first monthly, naming it; one payment names none."""
    first = make_contract(gas_org, number="ГП-52-0118/23")
    second = make_contract(gas_org, number="ГП-52-0200/24")
    for month in range(1, 4):
        end = date(2026, month, 28)
        gas_month(gas_org, first, end, "1220.00", "220.00")
        gas_month(gas_org, second, end, "610.00", "110.00")
        pay(gas_org, "1220.00", end + timedelta(days=5), f"П{month}", "по договору ГП-52-0118/23")
    pay(gas_org, "1000.00", date(2026, 4, 10), "П9", "Оплата за газ")  # FIFO: the 2nd contract
    pay(gas_org, "500.00", date(2026, 4, 11), "П10", "Аванс по договору ГП-52-0118/23")
    db.session.commit()
    return first, second


def amounts(page, testid):
    match = re.search(rf'data-testid="{testid}">([^<]+)<', page)
    return match.group(1).replace("\u202f", " ").replace("\xa0", " ").strip()


def test_per_contract_act_includes_its_payments_and_says_what_is_unallocated(
    login_as, gas_user, gas_org, queue
):
    first, _second = gas_year(gas_org)
    client = login_as(gas_user)
    request(client, start="2026-01-01", end="2026-04-30", contract=str(first.id))
    queue.run_pending()
    [job] = jobs()
    pdf = download(client, f"/statements/{job.id}/statement.pdf").data
    text = pdf_text(pdf)
    table = act_table(xlsx_rows(download(client, f"/statements/{job.id}/statement.xlsx").data))
    documents = [row[1] for row in table]
    assert "Газ за январь 2026, УПД № ГП-52-0118/23/2026-01 от 28.01.2026" in documents
    assert "Оплата, платёжное поручение № П1 от 02.02.2026" in documents
    assert "Оплата, платёжное поручение № П10 от 11.04.2026" in documents
    assert not any("ГП-52-0200/24" in document or "П9" in document for document in documents)
    lines = table[1:-2]
    total = sum(((row[2] or 0) - (row[3] or 0) for row in lines), Decimal("0"))
    assert table[-1][3] == Decimal("500.00") == -total  # the advance: the supplier owes
    assert len(pdf_table(text)) == len(table)
    raw = " ".join(pdf_text(pdf, layout=False).split())
    assert "Оплаты по договору, не распределённые по документам, на 30.04.2026: 500,00 руб." in raw
    assert 'задолженность в пользу АО "Газ Тест" составляет 500,00 руб.' in raw

    # The account page with the same filters shows the same closing balance.
    page = client.get(
        f"/settlements/?period_start=2026-01-01&period_end=2026-04-30&contract_id={first.id}"
    ).get_data(as_text=True)
    assert amounts(page, "closing") == "-500,00 ₽"
    statement = build_statement(gas_org.id, date(2026, 1, 1), date(2026, 4, 30), first.id)
    assert statement.closing == Decimal("-500.00") == statement.opening + total


def test_account_page_filters_pages_and_balances(login_as, gas_user, gas_org):
    first, second = gas_year(gas_org)
    client = login_as(gas_user)
    page = client.get("/settlements/?period_start=2026-02-01&period_end=2026-03-31").get_data(
        as_text=True
    )
    # Opening on 01.02: January's 1830.00 charged, nothing paid yet (January paid on 02.02).
    assert amounts(page, "opening") == "1 830,00 ₽"
    assert amounts(page, "closing") == "3 050,00 ₽"  # 3 × 1830 charged − 2 × 1220 paid
    assert "Газ за февраль 2026, УПД № ГП-52-0200/24/2026-02 от 28.02.2026" in page
    # Net, VAT and gross are shown apart.
    assert "1\u202f000,00" in page and "220,00" in page and "1\u202f220,00" in page
    assert "Газ за январь 2026" not in page

    page = client.get(
        f"/settlements/?period_start=2026-01-01&period_end=2026-12-31&contract_id={second.id}"
    ).get_data(as_text=True)
    assert "ГП-52-0118/23" not in page.split("<table")[1]
    assert "Оплата, платёжное поручение № П9" in page  # the FIFO payment went to this contract
    assert amounts(page, "closing") == "830,00 ₽"  # 3 × 610 − 1000

    # Someone else's contract is a 404, not an empty page.
    assert client.get("/settlements/?contract_id=999").status_code == 404


def test_account_pages_long_periods(login_as, buyer, pharmacy):
    for n in range(120):
        ledger.post_charge(
            pharmacy.id,
            "100.00",
            entry_date=date(2025, 1, 1) + timedelta(days=n),
            description="Отгрузка",
            document_number=f"У-{n:03d}",
            vat_amount="9.09",
        )
    db.session.commit()
    client = login_as(buyer)
    query = "period_start=2025-01-01&period_end=2025-12-31"
    first = client.get(f"/settlements/?{query}").get_data(as_text=True)
    assert first.count("Отгрузка (УПД) №") == 50 and "У-000" in first and "У-050" not in first
    assert "page=3" in first
    third = client.get(f"/settlements/?{query}&page=3").get_data(as_text=True)
    assert third.count("Отгрузка (УПД) №") == 20 and "У-119" in third
    # The period's balances do not depend on the page shown.
    assert amounts(third, "opening") == "0,00 ₽" and amounts(third, "closing") == "12 000,00 ₽"


def test_account_xlsx_has_the_pages_figures(login_as, gas_user, gas_org):
    first, _second = gas_year(gas_org)
    client = login_as(gas_user)
    response = client.get(
        f"/settlements/account.xlsx?period_start=2026-01-01&period_end=2026-04-30"
        f"&contract_id={first.id}"
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    rows = [list(row) + [None] * 8 for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    charge = next(row for row in rows if row[1] and str(row[1]).startswith("Газ за январь"))
    assert [Decimal(str(value)) for value in charge[2:5]] == [
        Decimal("1000"),
        Decimal("220"),
        Decimal("1220"),
    ]
    closing = next(row for row in rows if row[1] == "Сальдо на конец")
    assert Decimal(str(closing[6])) == Decimal("-500")
    unallocated = next(row for row in rows if row[1] == "Оплаты, не распределённые по документам")
    assert Decimal(str(unallocated[7])) == Decimal("500")


def test_pharmacy_has_a_settlement_account_in_its_menu(login_as, buyer, pharmacy):
    ledger.post_charge(
        pharmacy.id, "10.00", entry_date=date(2026, 1, 5), description="x", document_number="У-1"
    )
    db.session.commit()
    client = login_as(buyer)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/settlements/"' in page and "Лицевой счёт" in page
    assert "Отгрузка (УПД) № У-1 от 05.01.2026" in client.get(
        "/settlements/?period_start=2026-01-01"
    ).get_data(as_text=True)
    assert rendering.amount(Decimal("10.00")) == "10,00"
