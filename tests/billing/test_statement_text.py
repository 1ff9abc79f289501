"""Text from customers and bank files never becomes a live formula in the statement XLSX:
a payment's document number (in the line that names the payment order) and the
organisation's name (in the parties' lines). The writer's own rule for cells that start like a
formula is tested in tests/reports/test_xlsx_text.py."""

from datetime import date

from portal.billing.ledger import post_payment
from portal.extensions import db
from tests.billing.test_statements import jobs, request
from tests.documents.files import download
from tests.reports.xlsx_checks import FORMULA_LIKE, cells


def test_statement_xlsx_writes_bank_text_as_text(login_as, buyer, pharmacy, queue):
    pharmacy.legal_name = FORMULA_LIKE[0]
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
    found = cells(data)
    assert not [cell.coordinate for cell in found if cell.data_type == "f"]
    for text in (FORMULA_LIKE[0], "№ +1+1"):
        carrying = [c for c in found if isinstance(c.value, str) and text in c.value]
        assert carrying and all(c.data_type == "s" for c in carrying), text
