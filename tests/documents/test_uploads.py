import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.documents.models import CustomerUpload
from portal.extensions import db
from portal.notifications.models import Notification
from portal.organisations.models import ALL_POWERS, Power
from tests import stored
from tests.documents.files import (
    EXECUTABLE_BYTES,
    FORGED_PDF_BYTES,
    PDF_BYTES,
    download,
    file,
    image_bytes,
)
from tests.factories import login, make_user
from tests.html import shown


def upload(client, data, name, **fields):
    form = {"category": "signed_act", "file": file(data, name), **fields}
    return client.post("/documents/scans/new", data=form, content_type="multipart/form-data")


def files_on_disk(app):
    return stored.keys()


def stored_uploads():
    return db.session.scalars(select(CustomerUpload)).all()


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF_BYTES, "акт.pdf", "application/pdf"),
        (image_bytes("JPEG"), "scan.jpg", "image/jpeg"),
        (image_bytes("PNG"), "scan.png", "image/png"),
        (image_bytes("TIFF"), "scan.tiff", "image/tiff"),
    ],
)
def test_customer_uploads_a_scan_stored_under_a_random_name(
    app, login_as, buyer, data, name, content_type
):
    client = login_as(buyer)
    response = upload(client, data, name, comment="подписанный акт")
    assert response.status_code == 302
    [saved] = stored_uploads()
    assert saved.original_name == name and saved.content_type == content_type
    assert saved.size == len(data) and len(saved.sha256) == 64
    assert name not in saved.stored_name
    assert stored.read(saved.stored_name) == data
    assert "на проверке" in client.get("/documents/scans").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (EXECUTABLE_BYTES, "invoice.pdf", "Принимаются только файлы PDF, JPEG, PNG или TIFF"),
        (FORGED_PDF_BYTES, "invoice.pdf", "не является корректным документом PDF"),
        (b"", "empty.pdf", "Файл пустой"),
        (PDF_BYTES, "../../etc/passwd.pdf", "не должно содержать путь"),
        (PDF_BYTES, "..\\evil.pdf", "не должно содержать путь"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "fake.png", "повреждено"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(app, login_as, buyer, data, name, message):
    client = login_as(buyer)
    before = files_on_disk(app)
    response = upload(client, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_uploads() == []
    assert files_on_disk(app) == before


def test_file_over_the_limit_is_refused(app, login_as, buyer, monkeypatch):
    # A small limit keeps the request body in memory (the test client spools big ones to disk).
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 0.25)
    client = login_as(buyer)
    big_pdf = PDF_BYTES[:-7] + b" " * (300 * 1024) + b"\n%%EOF\n"
    response = upload(client, big_pdf, "big.pdf")
    assert response.status_code == 422
    assert "больше 0.25 МБ" in response.get_data(as_text=True)
    assert stored_uploads() == []


def test_upload_needs_the_power(login_as, pharmacy):
    limited = make_user(pharmacy, ALL_POWERS - {Power.UPLOAD_DOCUMENTS})
    client = login_as(limited)
    assert upload(client, PDF_BYTES, "a.pdf").status_code == 403
    assert stored_uploads() == []


def test_upload_without_csrf_is_refused(login_as, buyer):
    client = login_as(buyer)
    response = client.post(
        "/documents/scans/new",
        data={"category": "other", "file": file(PDF_BYTES, "a.pdf")},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code in (400, 422)
    assert stored_uploads() == []


def test_upload_linked_to_own_order(login_as, buyer, pharmacy, orders_registered):
    client = login_as(buyer)
    order_id = orders_registered(pharmacy, 7)
    response = upload(client, PDF_BYTES, "a.pdf", subject_kind="order", subject_id=str(order_id))
    assert response.status_code == 302
    [saved] = stored_uploads()
    assert (saved.subject_kind, saved.subject_id) == ("order", order_id)
    assert saved.subject_label == f"Заказ №{order_id}"


def test_upload_refers_to_another_organisations_order_refused(
    app, login_as, buyer, other_pharmacy, orders_registered
):
    client = login_as(buyer)
    before = files_on_disk(app)
    foreign = orders_registered(other_pharmacy, 1)
    response = upload(client, PDF_BYTES, "a.pdf", subject_kind="order", subject_id=str(foreign))
    assert response.status_code == 422
    assert "нет такого объекта" in response.get_data(as_text=True)
    assert stored_uploads() == []
    assert files_on_disk(app) == before


def test_unknown_subject_kind_refused(login_as, buyer):
    client = login_as(buyer)
    response = upload(client, PDF_BYTES, "a.pdf", subject_kind="spaceship", subject_id="1")
    assert response.status_code == 422
    assert stored_uploads() == []


def test_download_is_an_attachment_that_is_not_sniffed(login_as, buyer):
    client = login_as(buyer)
    upload(client, image_bytes("PNG"), "скан.png")
    [saved] = stored_uploads()
    response = download(client, f"/documents/scans/{saved.id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "image/png"
    assert response.data == image_bytes("PNG")


def test_other_organisation_cannot_download(client, buyer, other_pharmacy):
    login(client, buyer)
    upload(client, PDF_BYTES, "a.pdf")
    [saved] = stored_uploads()
    stranger = make_user(other_pharmacy)
    other = client.application.test_client()
    login(other, stranger)
    assert download(other, f"/documents/scans/{saved.id}/download").status_code == 404


def test_uploads_are_not_reachable_as_static_files(app, login_as, buyer):
    client = login_as(buyer)
    upload(client, PDF_BYTES, "a.pdf")
    [saved] = stored_uploads()
    assert client.get(f"/static/{saved.stored_name}").status_code == 404
    assert client.get(f"/uploads/{saved.stored_name}").status_code == 404


def test_manager_rejects_with_comment_and_customer_is_notified(
    client, login_as, buyer, pharmacy, manager, outbox
):
    login(client, buyer)
    upload(client, PDF_BYTES, "a.pdf")
    [saved] = stored_uploads()
    staff = client.application.test_client()
    login(staff, manager)
    assert "a.pdf" in staff.get("/backoffice/documents/scans").get_data(as_text=True)
    refused = staff.post(
        f"/backoffice/documents/scans/{saved.id}", data={"reject": "1", "comment": ""}
    )
    assert "Укажите, почему" in refused.get_data(as_text=True)
    assert db.session.get(CustomerUpload, saved.id).status == "pending"
    staff.post(
        f"/backoffice/documents/scans/{saved.id}", data={"reject": "1", "comment": "нет печати"}
    )
    reviewed = db.session.get(CustomerUpload, saved.id)
    assert reviewed.status == "rejected" and reviewed.review_comment == "нет печати"
    assert db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "documents.upload_rejected")
    )
    notice = db.session.scalars(select(Notification).where(Notification.user_id == buyer.id)).one()
    assert "отклонён" in notice.title
    page = client.get("/documents/scans").get_data(as_text=True)
    assert "отклонён" in page and "нет печати" in page
    [mail] = outbox.to(buyer.email)
    assert "отклонён" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "нет печати" in text and "исправленный скан" in text and "/documents/scans" in text
    again = staff.post(f"/backoffice/documents/scans/{saved.id}", data={"accept": "1"})
    assert "уже проверен" in again.get_data(as_text=True)


def test_manager_accepts(client, buyer, manager, outbox):
    buyer.notify_request_answers = False  # the customer turned these e-mails off
    db.session.commit()
    login(client, buyer)
    upload(client, PDF_BYTES, "a.pdf")
    [saved] = stored_uploads()
    staff = client.application.test_client()
    login(staff, manager)
    staff.post(f"/backoffice/documents/scans/{saved.id}", data={"accept": "1"})
    assert db.session.get(CustomerUpload, saved.id).status == "accepted"
    assert outbox.to(buyer.email) == []
    assert download(staff, f"/backoffice/documents/scans/{saved.id}/download").data == PDF_BYTES
    # A staff download of a customer's scan (people's data) is recorded: who, which file.
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "documents.scan_downloaded_by_staff")
    ).one()
    assert event.actor_id == manager.id and event.target_id == str(saved.id)
    assert event.details == {"file": "a.pdf"}


def test_soft_delete_is_audited_and_hides_the_scan(app, login_as, buyer):
    client = login_as(buyer)
    upload(client, PDF_BYTES, "a.pdf")
    [saved] = stored_uploads()
    assert "a.pdf" in shown(client.get("/documents/scans"))  # listed until deleted
    client.post(f"/documents/scans/{saved.id}/delete")
    kept = db.session.get(CustomerUpload, saved.id)
    assert kept.deleted_at is not None
    assert stored.exists(kept.stored_name)
    assert "a.pdf" not in shown(client.get("/documents/scans"))
    assert download(client, f"/documents/scans/{saved.id}/download").status_code == 404
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "documents.upload_deleted")
    ).one()
    assert event.actor_id == buyer.id


def test_polyglot_and_disguised_html_cannot_run_in_the_browser(login_as, buyer):
    """A valid PNG with HTML/JS appended is kept only as an inert image download; HTML named
    .png (no image inside) is refused outright."""
    client = login_as(buyer)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    assert upload(client, payload, "photo.png").status_code == 422
    assert stored_uploads() == []
    assert upload(client, image_bytes("PNG") + payload, "polyglot.png").status_code == 302
    [saved] = stored_uploads()  # a real image (with trailing bytes) is a legitimate scan...
    response = download(client, f"/documents/scans/{saved.id}/download")
    assert response.mimetype == "image/png"  # ...served only as an image, never as HTML
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
