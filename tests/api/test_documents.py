"""/api/v1/documents: invoices, УПД and supplier documents with the pages' access rules."""

import io
import shutil
import subprocess
import uuid

import pytest
from openpyxl import load_workbook

from portal.api import documents as api_documents
from portal.documents.models import SupplierDocument
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Power
from tests import stored
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.billing.test_upd import the_upd
from tests.documents.files import PDF_BYTES
from tests.factories import make_organisation, make_user

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


def publish(organisation, kind="certificate", title="Сертификат соответствия"):
    """A supplier document with a real stored PDF, published to the organisation."""
    stored_name = f"{uuid.uuid4().hex}.pdf"
    stored.put(stored_name, PDF_BYTES)
    document = SupplierDocument(
        organisation_id=organisation.id if organisation else None,
        kind=kind,
        title=title,
        published_by_id=make_user(staff_role="manager").id,
        stored_name=stored_name,
        original_name="certificate.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256="0" * 64,
    )
    db.session.add(document)
    db.session.commit()
    return document


def _list(client, token, **params):
    response = client.get("/api/v1/documents", query_string=params, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _get(client, token, url):
    response = client.get(url, headers=bearer(token))
    response.get_data()
    response.close()
    return response


@needs_pdftotext
def test_invoice_upd_and_supplier_documents_are_listed_and_downloaded(
    api_client, mixed_order, buyer_org
):
    order, _client, _medicine, _plaster = mixed_order
    upd = the_upd(order)
    certificate = publish(buyer_org)
    _key, token = issue_key(buyer_org, tuple(ALL_POWERS))
    found = {d["id"]: d for d in _list(api_client, token)["documents"]}
    assert set(found) == {f"invoice-{order.id}", f"upd-{upd.id}", f"supplier-{certificate.id}"}
    entry = found[f"upd-{upd.id}"]
    assert entry["kind"] == "upd" and entry["number"] == upd.printed_number
    assert entry["formats"] == ["pdf", "xlsx", "xml"] and entry["order_number"] == order.number
    assert entry["date"] == "2026-03-10" and entry["total"] == "580.00"

    pdf = _get(api_client, token, entry["downloads"]["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.headers["Cache-Control"] == "private, no-store"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Счет-фактура" in text.replace("ё", "е") and upd.printed_number in text
    xlsx = _get(api_client, token, entry["downloads"]["xlsx"])
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "580" in cells.replace("\u00a0", "").replace(" ", "")

    xml = _get(api_client, token, entry["downloads"]["xml"])
    assert xml.status_code == 200 and "windows-1251" in xml.headers["Content-Type"]
    name = xml.headers["Content-Disposition"]
    assert "ON_NSCHFDOPPR_" in name and name.rstrip('"').endswith(".xml")
    assert b'encoding="windows-1251"' in xml.data[:100]
    assert upd.printed_number in xml.data.decode("windows-1251")

    invoice = _get(api_client, token, found[f"invoice-{order.id}"]["downloads"]["pdf"])
    assert invoice.status_code == 200 and invoice.data.startswith(b"%PDF")
    stored = _get(api_client, token, found[f"supplier-{certificate.id}"]["downloads"]["pdf"])
    assert stored.data == PDF_BYTES and stored.headers["X-Content-Type-Options"] == "nosniff"

    upds = _list(api_client, token, kind="upd")["documents"]
    assert [d["id"] for d in upds] == [f"upd-{upd.id}"]
    assert _list(api_client, token, kind="upd", to="2026-03-09")["documents"] == []
    assert_problem(_get(api_client, token, f"/api/v1/documents/upd-{upd.id}.docx"), 404)


def test_each_kind_keeps_the_pages_powers(api_client, mixed_order, buyer_org):
    order, *_rest = mixed_order
    upd = the_upd(order)
    contract = publish(buyer_org, kind="contract", title="Договор поставки")
    certificate = publish(None, title="Сертификат для всех")
    _key, prices_only = issue_key(buyer_org, (Power.VIEW_PRICES,))
    listed = {d["id"] for d in _list(api_client, prices_only)["documents"]}
    # No invoice (ordering power), no contract (finance), the УПД (prices) and the certificate.
    assert listed == {f"upd-{upd.id}", f"supplier-{certificate.id}"}
    assert_problem(_get(api_client, prices_only, f"/api/v1/documents/invoice-{order.id}.pdf"), 403)
    assert_problem(
        _get(api_client, prices_only, f"/api/v1/documents/supplier-{contract.id}.pdf"), 403
    )
    _key, readings_only = issue_key(buyer_org, (Power.SUBMIT_READINGS,))
    assert_problem(_get(api_client, readings_only, f"/api/v1/documents/upd-{upd.id}.pdf"), 403)


def test_another_organisations_documents_are_404(api_client, mixed_order, buyer_org):
    order, *_rest = mixed_order
    upd = the_upd(order)
    mine = publish(buyer_org, title="Только для нас")
    _key, foreign = issue_key(make_organisation(), tuple(ALL_POWERS))
    assert _list(api_client, foreign)["documents"] == []
    for document_id in (f"invoice-{order.id}", f"upd-{upd.id}", f"supplier-{mine.id}"):
        assert_problem(_get(api_client, foreign, f"/api/v1/documents/{document_id}.pdf"), 404)
    assert_problem(_get(api_client, foreign, f"/api/v1/documents/ukd-{upd.id}.pdf"), 404)
    assert_problem(_get(api_client, foreign, "/api/v1/documents/nonsense.pdf"), 404)


def test_pages_walk_every_document_once_and_a_new_format_is_listed(
    api_client, mixed_order, buyer_org, monkeypatch
):
    order, *_rest = mixed_order
    for n in range(4):
        publish(buyer_org, title=f"Документ {n}")
    _key, token = issue_key(buyer_org, tuple(ALL_POWERS))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _list(api_client, token, **params)
        seen += [d["id"] for d in page["documents"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6
    changed = api_client.get(
        "/api/v1/documents",
        query_string={"cursor": cursor or "x", "kind": "upd"},
        headers=bearer(token),
    )
    assert_problem(changed, 422)

    monkeypatch.setitem(api_documents.FORMATS, "upd", dict(api_documents.FORMATS["upd"]))
    api_documents.register_format("upd", "xml", lambda d: (b"<xml/>", "upd.xml"), "application/xml")
    upd = the_upd(order)
    entry = next(d for d in _list(api_client, token, kind="upd")["documents"])
    assert entry["formats"] == ["pdf", "xlsx", "xml"]
    xml = _get(api_client, token, f"/api/v1/documents/upd-{upd.id}.xml")
    assert xml.data == b"<xml/>" and xml.mimetype == "application/xml"
