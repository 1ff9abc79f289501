import io
import re
import subprocess
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from portal.billing import rendering
from portal.billing.ledger import post_payment
from portal.billing.models import StatementJob
from portal.extensions import db
from tests.documents.files import download


def request(client, start="2026-01-01", end="2026-03-31", contract=""):
    return client.post(
        "/statements/", data={"period_start": start, "period_end": end, "contract_id": contract}
    )


def jobs():
    return db.session.scalars(select(StatementJob)).all()


def pdf_text(data: bytes, layout=True) -> str:
    result = subprocess.run(
        ["pdftotext", *(["-layout"] if layout else []), "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def xlsx_rows(data: bytes):
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


def test_end_before_start_is_refused(login_as, buyer, queue):
    client = login_as(buyer)
    response = request(client, start="2026-03-01", end="2026-02-01")
    assert response.status_code == 422
    assert "Конец периода раньше его начала" in response.get_data(as_text=True)
    assert jobs() == [] and queue.pending() == 0


def test_statement_is_made_in_background_with_identical_pdf_and_xlsx(
    login_as, buyer, ledger, queue
):
    client = login_as(buyer)
    response = request(client)
    assert response.status_code == 302
    [job] = jobs()
    # The request only queued the work.
    status = client.get(f"/statements/{job.id}/status").get_json()
    assert status["status"] == "queued" and status["pdf_url"] is None
    assert download(client, f"/statements/{job.id}/statement.pdf").status_code == 404
    assert queue.pending() == 1

    assert queue.run_pending() == 1
    status = client.get(f"/statements/{job.id}/status").get_json()
    assert status["status"] == "done" and status["progress"] == 100

    pdf = download(client, status["pdf_url"])
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    text = pdf_text(pdf.data)
    rows = xlsx_rows(download(client, status["xlsx_url"]).data)

    # Opening 600.00 (1000 - 400), turnover 12 596.17 / 5 000.00, closing 8 196.17.
    table = act_table(rows)
    assert table[0] == (None, "Сальдо начальное", Decimal("600.00"), None)
    assert table[-2] == (None, "Обороты за период", Decimal("12596.17"), Decimal("5000.00"))
    assert table[-1] == (None, "Сальдо конечное", Decimal("8196.17"), None)
    assert table[1:-2] == [
        ("10.01.2026", "Отгрузка (УПД) № УПД-0002 от 10.01.2026", Decimal("12345.67"), None),
        (
            "01.02.2026",
            "Оплата, платёжное поручение № ПП-0002 от 01.02.2026",
            None,
            Decimal("5000.00"),
        ),
        ("05.03.2026", "Отгрузка (УПД) № СЧ-77 от 05.03.2026", Decimal("250.50"), None),
    ]
    # The PDF prints the same rows, line by line, in the same order.
    assert pdf_table(text) == [expected_pdf_line(row) for row in table]
    assert "УПД-0001" not in text and "УПД-0099" not in text
    assert "Акт сверки взаимных расчётов" in text
    assert buyer.memberships[0].organisation.inn in text and "7729012342" in text
    for document in (text, "\n".join(str(cell) for row in rows for cell in row if cell)):
        half = " ".join(document.split())
        assert "По данным ООО" in half and "Дата" in half and "Кредит" in half
        assert "От ООО «Фарма-Газ Снабжение»" in half and 'От ООО "Аптека Тест"' in half
        assert "Генеральный директор" in half and "Главный бухгалтер" in half
        assert half.count("М.П.") == 2
        assert "к/с 30101810900000000987" in half
    closing = (
        "По данным ООО «Фарма-Газ Снабжение» на 31.03.2026 задолженность в пользу "
        "ООО «Фарма-Газ Снабжение» составляет 8 196,17 руб. "
        "(Восемь тысяч сто девяносто шесть рублей 17 копеек)."
    )
    # Without -layout, pdftotext reads the two halves below the table one after the other.
    assert closing in " ".join(pdf_text(pdf.data, layout=False).split())
    assert any(closing in str(cell) for row in rows for cell in row if cell)


def money_cell(value):
    return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None


def act_table(rows):
    """The supplier's half of the XLSX act: (date, document, debit, credit) per row."""
    start = next(index for index, row in enumerate(rows) if row[:2] == ["Дата", "Документ"]) + 1
    table = []
    for row in rows[start:]:
        row = row + [None] * 4
        if not any(row[:4]):
            break
        day = row[0].strftime("%d.%m.%Y") if row[0] else None
        table.append((day, row[1], money_cell(row[2]), money_cell(row[3])))
    return table


def expected_pdf_line(row):
    day, document, debit, credit = row
    parts = [day or "", document, rendering.amount(debit), rendering.amount(credit)]
    if day is None:  # the counterparty's half repeats the label of a total, to be filled in
        parts.append(document)
    return " ".join(" ".join(parts).split())


def pdf_table(text):
    lines = [" ".join(line.split()) for line in text.splitlines()]
    start = next(index for index, line in enumerate(lines) if line.startswith("Дата Документ")) + 1
    end = next(index for index, line in enumerate(lines) if line.startswith("Сальдо конечное"))
    return [line for line in lines[start : end + 1] if line]


def test_unchanged_request_reuses_the_files_until_the_ledger_changes(
    login_as, buyer, pharmacy, ledger, queue
):
    client = login_as(buyer)
    request(client)
    queue.run_pending()
    [first] = jobs()
    again = request(client)
    assert again.headers["Location"].endswith(f"/statements/{first.id}")
    assert len(jobs()) == 1 and queue.pending() == 0

    post_payment(
        pharmacy.id,
        "100.00",
        entry_date=date(2026, 3, 1),
        description="Оплата",
        document_number="ПП-0003",
    )
    db.session.commit()
    request(client)
    assert len(jobs()) == 2 and queue.pending() == 1


def test_contract_scope(login_as, buyer, ledger, queue):
    client = login_as(buyer)
    page = client.get("/statements/").get_data(as_text=True)
    assert 'value="7"' in page
    request(client, contract="7")
    queue.run_pending()
    [job] = jobs()
    text = pdf_text(download(client, f"/statements/{job.id}/statement.pdf").data)
    assert "СЧ-77" in text and "УПД-0002" not in text
    # The payments of the organisation named no contract: the act says what is unallocated.
    assert "Оплаты по договору, не распределённые по документам, на 31.03.2026: 0,00 руб." in text
    refused = request(client, contract="8")
    assert refused.status_code == 422 and len(jobs()) == 1


def test_failed_job_is_shown_and_can_be_retried(login_as, buyer, ledger, queue, monkeypatch):
    client = login_as(buyer)

    def broken(statement):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(rendering, "statement_pdf", broken)
    request(client)
    queue.run_pending()
    [job] = jobs()
    assert job.status == "failed"
    assert client.get(f"/statements/{job.id}/status").get_json()["status"] == "failed"
    assert "Не удалось подготовить акт" in client.get(f"/statements/{job.id}").get_data(
        as_text=True
    )
    monkeypatch.undo()
    monkeypatch.setitem(client.application.extensions, "statements_queue", queue)
    client.post(f"/statements/{job.id}/retry")
    assert db.session.get(StatementJob, job.id).status == "queued"
    queue.run_pending()
    assert db.session.get(StatementJob, job.id).status == "done"


def test_job_page_polls_with_a_local_script(login_as, buyer, ledger, queue):
    client = login_as(buyer)
    request(client)
    [job] = jobs()
    page = client.get(f"/statements/{job.id}").get_data(as_text=True)
    assert '<script src="/static/vendor/htmx/htmx.min.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert f'hx-get="/statements/{job.id}/status"' in page


def test_statements_need_the_finance_power(client, pharmacy, queue):
    from portal.organisations.models import ALL_POWERS, Power
    from tests.factories import login, make_user

    login(client, make_user(pharmacy, ALL_POWERS - {Power.VIEW_FINANCE}))
    assert client.get("/statements/").status_code == 403
    assert request(client).status_code == 403
    assert jobs() == []


def test_the_job_page_follows_progress_by_partial_updates_until_the_links(
    login_as, buyer, ledger, queue
):
    client = login_as(buyer)
    request(client)
    [job] = jobs()
    htmx = {"HX-Request": "true"}
    waiting = client.get(f"/statements/{job.id}/status", headers=htmx).get_data(as_text=True)
    assert waiting.lstrip().startswith('<div id="statement-job"') and "<html" not in waiting
    assert f'hx-get="/statements/{job.id}/status"' in waiting  # asks again while queued
    assert "<progress" in waiting and 'data-role="pdf"' not in waiting
    queue.run_pending()
    ready = client.get(f"/statements/{job.id}/status", headers=htmx).get_data(as_text=True)
    assert "hx-get" not in ready  # polling stops once ready
    assert f'href="/statements/{job.id}/statement.pdf"' in ready
    assert f'href="/statements/{job.id}/statement.xlsx"' in ready
    # Without JavaScript the page itself shows the same block; the API's JSON is unchanged.
    assert 'data-role="pdf"' in client.get(f"/statements/{job.id}").get_data(as_text=True)
    assert client.get(f"/statements/{job.id}/status").get_json()["status"] == "done"
