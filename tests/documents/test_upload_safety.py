"""Uploaded files through the real forms: safe names, real PDFs only, no active PDF content.

The same check guards customer scans, supplier documents, ticket attachments and item
certificates (and meter photos, tests/metering/test_readings_form.py).
"""

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from portal.catalog.models import ItemCertificate
from portal.documents import storage
from portal.documents.models import CustomerUpload, SupplierDocument
from portal.extensions import db
from portal.reports import pdf
from portal.tickets.models import Ticket, TicketAttachment
from tests import stored
from tests.catalog.builders import make_item
from tests.documents.files import PDF_BYTES, download, file, image_bytes, make_pdf


def upload_scan(client, data, name):
    form = {"category": "signed_act", "file": file(data, name)}
    return client.post("/documents/scans/new", data=form, content_type="multipart/form-data")


def files_on_disk(app):
    return stored.keys()


def count(model):
    return db.session.scalar(select(func.count(model.id)))


def written_by_pypdf(attachment: bytes | None = None) -> bytes:
    """A PDF made by a maintained library (with a file inside, as a hostile one would carry)."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if attachment is not None:
        writer.add_attachment("payload.exe", attachment)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


JS_OPEN_ACTION = make_pdf(
    catalog=b"/OpenAction 4 0 R", extra=(b"<</Type/Action/S/JavaScript/JS(app.alert(1))>>",)
)
ACTIVE_PDFS = {
    "javascript-open-action": JS_OPEN_ACTION,
    # The same, with the name spelled with #xx escapes a byte search would not see.
    "escaped-name": make_pdf(
        catalog=b"/OpenAction 4 0 R", extra=(b"<</S/J#61vaScript/J#53(app.alert(1))>>",)
    ),
    "page-additional-action": make_pdf(page=b"/AA<</O<</S/JavaScript/JS(x)>>>>"),
    "launch": make_pdf(catalog=b"/OpenAction<</S/Launch/F(cmd.exe)>>"),
    "document-javascript": make_pdf(
        catalog=b"/Names<</JavaScript 4 0 R>>",
        extra=(b"<</Names[(run) 5 0 R]>>", b"<</S/JavaScript/JS(app.alert(1))>>"),
    ),
    "embedded-file": written_by_pypdf(attachment=b"MZ\x90\x00"),
}
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
NOT_PDFS = {
    "html-wrapped": b"%PDF-1.4\n" + HTML_PAGE + b"\n%%EOF\n",
    "html-with-pdf-trailer": b"%PDF-1.4\n" + HTML_PAGE + b"\nstartxref\n9\n%%EOF\n",
    "html-inside-a-real-pdf": PDF_BYTES.replace(
        b"endobj\nxref", b"endobj\n" + HTML_PAGE + b"\nxref"
    ),
    "no-cross-reference": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF",
}


@pytest.mark.parametrize("data", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_a_customer_pdf_with_active_content_is_refused(app, login_as, buyer, data):
    before = files_on_disk(app)
    response = upload_scan(login_as(buyer), data, "акт.pdf")
    assert response.status_code == 422
    assert "активное содержимое" in response.get_data(as_text=True)
    assert count(CustomerUpload) == 0 and files_on_disk(app) == before


@pytest.mark.parametrize("data", NOT_PDFS.values(), ids=NOT_PDFS.keys())
def test_html_or_a_broken_file_behind_a_pdf_header_is_refused(app, login_as, buyer, data):
    before = files_on_disk(app)
    response = upload_scan(login_as(buyer), data, "акт.pdf")
    assert response.status_code == 422
    assert "не является корректным документом PDF" in response.get_data(as_text=True)
    assert count(CustomerUpload) == 0 and files_on_disk(app) == before


def test_a_pdf_of_too_many_objects_is_refused_unparsed(app, login_as, buyer, monkeypatch):
    monkeypatch.setattr(storage, "MAX_PDF_OBJECTS", 50)  # the real limit needs a 0.5 MB file
    data = make_pdf(extra=(b"null",) * 50)
    response = upload_scan(login_as(buyer), data, "акт.pdf")
    assert response.status_code == 422
    assert "слишком много" in response.get_data(as_text=True)
    assert count(CustomerUpload) == 0


def test_real_pdfs_are_accepted(app, login_as, buyer):
    """What generators write passes: WeasyPrint, pypdf, and "open at page 1" (LaTeX's habit)."""
    client = login_as(buyer)
    html = (
        '<html><head><style>@font-face { font-family: "Portal Sans"; '
        'src: url("portal-static:fonts/DejaVuSans.ttf"); } body { font-family: "Portal Sans"; }'
        "</style></head><body><h1>Акт сверки</h1></body></html>"
    )
    with app.test_request_context():  # the portal's own renderer, with its bundled font
        generated = pdf.html_to_pdf(html)
    opens_at_page = make_pdf(catalog=b"/OpenAction[3 0 R/Fit]")
    for number, data in enumerate((generated, written_by_pypdf(), opens_at_page), start=1):
        assert upload_scan(client, data, f"акт-{number}.pdf").status_code == 302
    assert count(CustomerUpload) == 3


@pytest.mark.parametrize(
    ("data", "name", "stored"),
    [
        # U+202E turns "счёт\u202egnp.exe" into what looks like "счётexe.png" on screen.
        (image_bytes("PNG"), "счёт\u202egnp.exe", "счётgnp.png"),
        (PDF_BYTES, "акт\u200b\u2066\x07\u0085 №5.pdf", "акт №5.pdf"),
        (PDF_BYTES, "договор.html", "договор.pdf"),
        (image_bytes("JPEG"), "фото.JPEG", "фото.JPEG"),
        (image_bytes("TIFF"), "scan", "scan.tif"),
        (PDF_BYTES, "scan.v2 final", "scan.v2 final.pdf"),
    ],
    ids=["rtl-override", "controls", "wrong-extension", "kept-extension", "none", "dotted"],
)
def test_names_lose_control_characters_and_take_the_contents_extension(
    login_as, buyer, data, name, stored
):
    client = login_as(buyer)
    assert upload_scan(client, data, name).status_code == 302
    saved = db.session.scalars(select(CustomerUpload)).one()
    assert saved.original_name == stored
    response = download(client, f"/documents/scans/{saved.id}/download")
    disposition = response.headers["Content-Disposition"]
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition.upper()


def test_a_name_of_control_characters_only_is_refused(login_as, buyer):
    response = upload_scan(login_as(buyer), PDF_BYTES, "\u202e\u200b")
    assert response.status_code == 422
    assert count(CustomerUpload) == 0


def test_a_ticket_attachment_with_javascript_is_refused(login_as, buyer):
    response = login_as(buyer).post(
        "/tickets/new?type=question",
        data={
            "title": "Счёт",
            "body": "Во вложении",
            "attachments": [file(JS_OPEN_ACTION, "a.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "активное содержимое" in response.get_data(as_text=True)
    assert count(Ticket) == 0 and count(TicketAttachment) == 0


def test_a_ticket_attachment_name_is_cleaned(login_as, buyer):
    response = login_as(buyer).post(
        "/tickets/new?type=question",
        data={
            "title": "Скан",
            "body": "Во вложении",
            "attachments": [file(PDF_BYTES, "a\u202e.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalars(select(TicketAttachment.original_name)).one() == "a.pdf"


def test_a_supplier_document_with_javascript_is_refused(login_as, manager, pharmacy):
    response = login_as(manager).post(
        "/backoffice/documents/new",
        data={
            "organisation_id": str(pharmacy.id),
            "kind": "certificate",
            "title": "Сертификат",
            "number": "1",
            "file": file(JS_OPEN_ACTION, "doc.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "активное содержимое" in response.get_data(as_text=True)
    assert count(SupplierDocument) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (JS_OPEN_ACTION, "активное содержимое"),
        (NOT_PDFS["html-wrapped"], "не является корректным документом PDF"),
    ],
    ids=["javascript", "html"],
)
def test_an_item_certificate_must_be_a_passive_pdf(app, login_as, admin, data, message):
    item = make_item()
    before = files_on_disk(app)
    response = login_as(admin).post(
        f"/backoffice/catalog/items/{item.id}/certificates",
        data={
            "kind": "certificate",
            "number": "РОСС RU Д-RU.РА01.В.1/26",
            "issued_by": "ООО «Центр»",
            "valid_until": (date.today() + timedelta(days=365)).isoformat(),
            "file": file(data, "cert\u202efdp.exe"),
        },
        content_type="multipart/form-data",
    )
    assert message in response.get_data(as_text=True)
    assert count(ItemCertificate) == 0 and files_on_disk(app) == before


def test_an_item_certificate_name_is_cleaned(login_as, admin):
    item = make_item()
    login_as(admin).post(
        f"/backoffice/catalog/items/{item.id}/certificates",
        data={
            "kind": "certificate",
            "number": "РОСС RU Д-RU.РА01.В.2/26",
            "issued_by": "ООО «Центр»",
            "valid_until": (date.today() + timedelta(days=365)).isoformat(),
            "file": file(PDF_BYTES, "cert\u202efdp.exe"),
        },
        content_type="multipart/form-data",
    )
    assert db.session.scalars(select(ItemCertificate.original_name)).one() == "certfdp.pdf"
