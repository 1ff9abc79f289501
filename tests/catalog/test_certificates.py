"""Certificates and declarations of conformity: staff upload and remove, pharmacies download."""

import hashlib
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.catalog.models import ItemCertificate
from portal.extensions import db
from tests import stored
from tests.catalog.builders import make_item
from tests.documents.files import PDF_BYTES as PDF
from tests.documents.files import download
from tests.factories import login, make_user


def stored_files(app) -> set[str]:
    return stored.keys(prefix="catalog/")


def form(content=PDF, filename="certificate.pdf", **fields):
    data = {
        "kind": "certificate",
        "number": "РОСС RU Д-RU.РА01.В.12345/26",
        "issued_by": "ООО «Центр сертификации»",
        "valid_until": (date.today() + timedelta(days=365)).isoformat(),
        "file": (io.BytesIO(content), filename),
    }
    data.update(fields)
    return data


def upload(client, item, **kwargs):
    return client.post(
        f"/backoffice/catalog/items/{item.id}/certificates",
        data=form(**kwargs),
        content_type="multipart/form-data",
    )


def count_certificates():
    return db.session.scalar(select(func.count(ItemCertificate.id)))


def test_staff_upload_stores_a_random_name_and_the_checksum(app, login_as, manager):
    item = make_item("Нурофен")
    client = login_as(manager)
    response = upload(client, item)
    assert response.status_code == 302
    certificate = db.session.scalar(select(ItemCertificate))
    assert certificate.item_id == item.id and certificate.uploaded_by_id == manager.id
    assert certificate.original_name == "certificate.pdf"
    assert certificate.sha256 == hashlib.sha256(PDF).hexdigest()
    assert certificate.stored_name != "certificate.pdf" and len(certificate.stored_name) == 44
    assert stored.read(f"catalog/{certificate.stored_name}") == PDF
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Документ РОСС RU Д-RU.РА01.В.12345/26 добавлен." in page
    assert "Сертификат соответствия" in page
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "catalog.certificate_added")
    )
    assert event.actor_id == manager.id and event.details["sku"] == item.sku


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"MZ\x90\x00 not a pdf at all", "certificate.pdf", "Принимаются только файлы PDF."),
        (
            b"%PDF-1.4\nforged header, no trailer",
            "certificate.pdf",
            "не является корректным документом PDF",
        ),
        (b"", "certificate.pdf", "Файл пустой."),
        (PDF, "../../etc/certificate.pdf", "не должно содержать путь"),
    ],
    ids=["not-pdf", "fake-pdf", "empty", "path-name"],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    app, login_as, admin, content, filename, message
):
    item = make_item()
    before = stored_files(app)
    response = upload(login_as(admin), item, content=content, filename=filename)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count_certificates() == 0
    assert stored_files(app) == before


def test_oversized_file_is_refused_and_nothing_is_stored(app, login_as, admin):
    item = make_item()
    before = stored_files(app)
    limit = app.config["MAX_UPLOAD_MB"]
    # Small enough that the upload is not spooled to a temporary file by the test client.
    app.config["MAX_UPLOAD_MB"] = 0.25
    try:
        big = PDF[:-7] + b"0" * (300 * 1024) + b"\n%%EOF\n"
        response = upload(login_as(admin), item, content=big)
    finally:
        app.config["MAX_UPLOAD_MB"] = limit
    assert "Файл больше 0.25 МБ." in response.get_data(as_text=True)
    assert count_certificates() == 0
    assert stored_files(app) == before


def test_the_same_number_twice_is_refused(app, login_as, admin):
    item = make_item()
    client = login_as(admin)
    assert upload(client, item).status_code == 302
    before = stored_files(app)
    again = upload(client, item)
    assert "У товара уже есть документ с этим номером." in again.get_data(as_text=True)
    assert count_certificates() == 1
    assert stored_files(app) == before


def test_customer_cannot_upload(app, login_as, buyer):
    item = make_item()
    response = upload(login_as(buyer), item)
    assert response.status_code == 403
    assert count_certificates() == 0


def test_pharmacy_customer_sees_and_downloads_the_certificate(app, admin, buyer):
    item = make_item("Нурофен")
    staff = app.test_client()
    login(staff, admin)
    upload(staff, item)
    upload(
        staff,
        item,
        kind="declaration",
        number="ЕАЭС N RU Д-RU.00001",
        valid_until=(date.today() - timedelta(days=1)).isoformat(),
        filename="old.pdf",
    )
    certificate = db.session.scalar(
        select(ItemCertificate).where(ItemCertificate.kind == "certificate")
    )
    customer = app.test_client()
    login(customer, buyer)
    card = customer.get(f"/catalog/items/{item.id}").get_data(as_text=True)
    assert "РОСС RU Д-RU.РА01.В.12345/26" in card and "ЕАЭС N RU Д-RU.00001" in card
    assert card.count('data-testid="certificate-expired"') == 1  # only the lapsed declaration
    url = f"/catalog/items/{item.id}/certificates/{certificate.id}"
    assert url in card
    response = download(customer, url)
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "certificate.pdf" in response.headers["Content-Disposition"]
    # A certificate reached through another item's URL does not exist.
    other = make_item("Кеторол")
    assert customer.get(f"/catalog/items/{other.id}/certificates/{certificate.id}").status_code == (
        404
    )


def test_gas_customer_and_anonymous_cannot_download(app, admin, gas_org):
    item = make_item()
    staff = app.test_client()
    login(staff, admin)
    upload(staff, item)
    certificate = db.session.scalar(select(ItemCertificate))
    url = f"/catalog/items/{item.id}/certificates/{certificate.id}"
    gas = app.test_client()
    login(gas, make_user(gas_org))
    assert gas.get(url).status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_staff_removal_is_audited_and_deletes_the_file(app, login_as, manager, buyer):
    item = make_item()
    client = login_as(manager)
    upload(client, item)
    certificate = db.session.scalar(select(ItemCertificate))
    certificate_id, key = certificate.id, f"catalog/{certificate.stored_name}"
    assert stored.exists(key)
    response = client.post(f"/backoffice/catalog/certificates/{certificate_id}/delete")
    assert response.status_code == 302
    assert count_certificates() == 0
    assert not stored.exists(key)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "catalog.certificate_removed")
    )
    assert event.actor_id == manager.id and event.target_id == str(certificate_id)
    assert event.details["number"] == "РОСС RU Д-RU.РА01.В.12345/26"


def test_customer_cannot_remove(app, admin, buyer):
    item = make_item()
    staff = app.test_client()
    login(staff, admin)
    upload(staff, item)
    certificate = db.session.scalar(select(ItemCertificate))
    customer = app.test_client()
    login(customer, buyer)
    assert customer.post(
        f"/backoffice/catalog/certificates/{certificate.id}/delete"
    ).status_code == (403)
    assert count_certificates() == 1


def test_staff_find_items_and_download(app, login_as, admin):
    item = make_item("Кагоцел", sku="K00042")
    client = login_as(admin)
    upload(client, item)
    page = client.get("/backoffice/catalog/certificates", query_string={"q": "кагоцел"})
    assert f"/backoffice/catalog/items/{item.id}/certificates" in page.get_data(as_text=True)
    certificate = db.session.scalar(select(ItemCertificate))
    response = download(client, f"/backoffice/catalog/certificates/{certificate.id}/file")
    assert response.data == PDF and response.headers["X-Content-Type-Options"] == "nosniff"
