"""/api/v1 balance, ledger lines and reconciliation statements (the page's jobs)."""

import io
import subprocess

from openpyxl import load_workbook
from sqlalchemy import select

from portal.billing.models import StatementJob
from portal.extensions import db
from portal.organisations.models import Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.factories import make_organisation

FINANCE = (Power.VIEW_FINANCE,)


def _get(client, token, url, **params):
    response = client.get(url, query_string=params, headers=bearer(token))
    response.get_data()
    response.close()
    return response


def _post(client, token, body):
    return client.post("/api/v1/statements", json=body, headers=bearer(token), csrf=False)


def test_balance_is_the_ledgers(api_client, pharmacy, ledger):
    _key, token = issue_key(pharmacy, FINANCE)
    body = _get(api_client, token, "/api/v1/balance").get_json()
    # 1000 - 400 + 12 345.67 - 5000 + 250.50 + 999
    assert body["balance"] == "9195.17" and body["currency"] == "RUB"
    assert body["unallocated"] == "0.00"


def test_ledger_lines_of_a_period_in_pages(api_client, pharmacy, ledger):
    _key, token = issue_key(pharmacy, FINANCE)
    params = {"from": "2026-01-01", "to": "2026-03-31", "limit": 2}
    first = _get(api_client, token, "/api/v1/ledger", **params).get_json()
    assert first["opening"] == "600.00" and first["closing"] == "8196.17"
    assert [(e["date"], e["debit"], e["credit"], e["balance"]) for e in first["entries"]] == [
        ("2026-01-10", "12345.67", "0.00", "12945.67"),
        ("2026-02-01", "0.00", "5000.00", "7945.67"),
    ]
    assert first["entries"][1]["document"].startswith("Оплата, платёжное поручение № ПП-0002")
    second = _get(api_client, token, "/api/v1/ledger", cursor=first["next_cursor"]).get_json()
    assert [e["balance"] for e in second["entries"]] == ["8196.17"]
    assert second["next_cursor"] is None and second["from"] == "2026-01-01"
    contract = _get(api_client, token, "/api/v1/ledger", contract=7, **params).get_json()
    assert [e["debit"] for e in contract["entries"]] == ["250.50"]
    foreign_contract = _get(api_client, token, "/api/v1/ledger", contract=999)
    assert assert_problem(foreign_contract, 422)["errors"][0]["field"] == "contract"
    backwards = _get(
        api_client, token, "/api/v1/ledger", **{"from": "2026-03-01", "to": "2026-02-01"}
    )
    assert assert_problem(backwards, 422)["errors"][0]["field"] == "to"
    assert_problem(_get(api_client, token, "/api/v1/ledger", cursor="forged"), 422)


def test_a_statement_is_requested_polled_and_downloaded(api_client, pharmacy, ledger, queue):
    pharmacy.kpp = "770101001"
    pharmacy.legal_address = "Москва, ул. Аптечная, 1"
    db.session.commit()
    _key, token = issue_key(pharmacy, FINANCE)
    response = _post(api_client, token, {"from": "2026-01-01", "to": "2026-03-31"})
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.get_json()
    assert job["status"] == "queued" and job["downloads"] == {}
    assert_problem(_get(api_client, token, f"/api/v1/statements/{job['id']}.pdf"), 404)
    assert queue.run_pending() == 1
    done = _get(api_client, token, f"/api/v1/statements/{job['id']}").get_json()
    assert done["status"] == "done" and done["progress"] == 100
    pdf = _get(api_client, token, done["downloads"]["pdf"])
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.headers["Cache-Control"] == "private, no-store"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Акт сверки" in text
    xlsx = _get(api_client, token, done["downloads"]["xlsx"])
    rows = list(load_workbook(io.BytesIO(xlsx.data), read_only=True).active.values)
    assert any("Сальдо начальное" in row for row in rows)
    # The same data again: the same job and its files, nothing queued.
    again = _post(api_client, token, {"from": "2026-01-01", "to": "2026-03-31"}).get_json()
    assert again["id"] == job["id"] and again["status"] == "done" and queue.pending() == 0


def test_bad_statement_requests_change_nothing(api_client, pharmacy, ledger, queue):
    _key, token = issue_key(pharmacy, FINANCE)
    backwards = _post(api_client, token, {"from": "2026-03-01", "to": "2026-02-01"})
    assert assert_problem(backwards, 422)["errors"][0]["field"] == "to"
    unknown = _post(api_client, token, {"from": "2026-01-01", "to": "2026-02-01", "colour": 1})
    assert_problem(unknown, 422)
    contract = _post(api_client, token, {"from": "2026-01-01", "to": "2026-02-01", "contract": 5})
    assert assert_problem(contract, 422)["errors"][0]["field"] == "contract"
    assert db.session.scalars(select(StatementJob)).all() == [] and queue.pending() == 0


def test_another_organisations_statement_is_404(api_client, pharmacy, ledger, queue):
    _key, token = issue_key(pharmacy, FINANCE)
    job = _post(api_client, token, {"from": "2026-01-01", "to": "2026-03-31"}).get_json()
    queue.run_pending()
    _key, foreign = issue_key(make_organisation(), FINANCE)
    assert_problem(_get(api_client, foreign, f"/api/v1/statements/{job['id']}"), 404)
    assert_problem(_get(api_client, foreign, f"/api/v1/statements/{job['id']}.pdf"), 404)
