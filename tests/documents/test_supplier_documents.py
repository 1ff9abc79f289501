from sqlalchemy import select

from portal.audit import AuditEvent
from portal.documents.models import SupplierDocument
from portal.extensions import db
from portal.notifications.models import Notification
from portal.organisations.models import Power
from tests.documents.files import PDF_BYTES, download, file, image_bytes
from tests.factories import login, make_user
from tests.html import shown


def publish(client, organisation_id, title, kind="certificate", data=PDF_BYTES, name="doc.pdf"):
    return client.post(
        "/backoffice/documents/new",
        data={
            "organisation_id": str(organisation_id),
            "kind": kind,
            "title": title,
            "number": "Н-17",
            "file": file(data, name),
        },
        content_type="multipart/form-data",
    )


def test_staff_publishes_to_one_organisation_and_members_are_notified(
    client, manager, buyer, pharmacy, other_pharmacy
):
    stranger = make_user(other_pharmacy)
    login(client, manager)
    assert publish(client, pharmacy.id, "Сертификат на партию").status_code == 302
    document = db.session.scalars(select(SupplierDocument)).one()
    assert document.organisation_id == pharmacy.id
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "documents.published")
    ).one()
    titles = db.session.scalars(
        select(Notification.title).where(Notification.user_id == buyer.id)
    ).all()
    assert titles == ["Новый документ: Сертификат на партию"]
    assert not db.session.scalars(
        select(Notification).where(Notification.user_id == stranger.id)
    ).all()

    customer = client.application.test_client()
    login(customer, buyer)
    page = customer.get("/documents/").get_data(as_text=True)
    assert "Сертификат на партию" in page
    response = download(customer, f"/documents/{document.id}/download")
    assert response.data == PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    outsider = client.application.test_client()
    login(outsider, stranger)
    assert "Сертификат на партию" not in shown(outsider.get("/documents/"))
    assert download(outsider, f"/documents/{document.id}/download").status_code == 404


def test_document_to_all_reaches_every_organisation(client, manager, buyer, other_pharmacy):
    stranger = make_user(other_pharmacy)
    login(client, manager)
    publish(client, 0, "Прайс-лист на май", kind="price_list", data=image_bytes("PNG"))
    for user in (buyer, stranger):
        other = client.application.test_client()
        login(other, user)
        assert "Прайс-лист на май" in other.get("/documents/").get_data(as_text=True)


def test_finance_documents_hidden_without_the_power(client, manager, pharmacy):
    limited = make_user(pharmacy, {Power.VIEW_PRICES})
    login(client, manager)
    publish(client, pharmacy.id, "Счёт 15", kind="invoice")
    publish(client, pharmacy.id, "Сертификат 16", kind="certificate")
    customer = client.application.test_client()
    login(customer, limited)
    page = customer.get("/documents/").get_data(as_text=True)
    assert "Сертификат 16" in page and "Счёт 15" not in page
    invoice = db.session.scalar(select(SupplierDocument).where(SupplierDocument.kind == "invoice"))
    assert download(customer, f"/documents/{invoice.id}/download").status_code == 403


def test_filters(client, manager, buyer, pharmacy):
    login(client, manager)
    publish(client, pharmacy.id, "Акт за март", kind="act")
    publish(client, pharmacy.id, "Сертификат 1", kind="certificate")
    customer = client.application.test_client()
    login(customer, buyer)
    page = customer.get("/documents/?kind=act").get_data(as_text=True)
    assert "Акт за март" in page and "Сертификат 1" not in page
    page = customer.get("/documents/?q=Сертификат").get_data(as_text=True)
    assert "Сертификат 1" in page and "Акт за март" not in page
    page = customer.get("/documents/?date_to=2000-01-01").get_data(as_text=True)
    assert "Сертификат 1" not in page


def test_withdrawn_document_disappears(client, manager, buyer, pharmacy):
    login(client, manager)
    publish(client, pharmacy.id, "Устаревший прайс", kind="price_list")
    document = db.session.scalars(select(SupplierDocument)).one()
    customer = client.application.test_client()
    login(customer, buyer)
    assert "Устаревший прайс" in shown(customer.get("/documents/"))  # published: listed
    client.post(f"/backoffice/documents/{document.id}/withdraw")
    assert "Устаревший прайс" not in shown(customer.get("/documents/"))
    assert download(customer, f"/documents/{document.id}/download").status_code == 404


def test_publishing_an_executable_is_refused(app, client, manager, pharmacy):
    login(client, manager)
    response = publish(client, pharmacy.id, "Вирус", data=b"MZ" + b"\0" * 100, name="x.pdf")
    assert response.status_code == 422
    assert "Принимаются только файлы PDF" in response.get_data(as_text=True)
    assert db.session.scalars(select(SupplierDocument)).all() == []


def test_customers_cannot_publish(client, buyer, pharmacy):
    login(client, buyer)
    assert publish(client, pharmacy.id, "x").status_code == 403
