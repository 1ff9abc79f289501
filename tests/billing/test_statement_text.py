"""A payment's document number and purpose from a bank file never become a live formula in
the statement XLSX."""

from datetime import date

from portal.billing.ledger import post_payment
from portal.extensions import db
from tests.billing.test_statements import jobs, request
from tests.documents.files import download
from tests.reports.xlsx_checks import FORMULA_LIKE, assert_text_not_formula


def test_statement_xlsx_writes_bank_text_as_text(login_as, buyer, pharmacy, queue):
    post_payment(
        pharmacy.id,
        "400.00",
        entry_date=date(2026, 1, 25),
        description=FORMULA_LIKE[0],
        document_number="+1+1",
    )
    db.session.commit()
    client = login_as(buyer)
    assert request(client).status_code == 302
    assert queue.run_pending() == 1
    [job] = jobs()
    status = client.get(f"/statements/{job.id}/status").get_json()
    data = download(client, status["xlsx_url"]).data
    assert_text_not_formula(data, FORMULA_LIKE[0], "+1+1")
