from portal.documents.models import CustomerUpload, SupplierDocument
from portal.extensions import db
from portal.organisations.models import Power
from tests.access import Case
from tests.factories import make_user


def _file_columns(name):
    return {
        "stored_name": name,
        "original_name": "scan.pdf",
        "content_type": "application/pdf",
        "size": 10,
        "sha256": "0" * 64,
    }


def an_upload(organisation):
    user = make_user(organisation)
    upload = CustomerUpload(
        organisation_id=organisation.id,
        uploaded_by_id=user.id,
        category="other",
        **_file_columns(f"access-{organisation.id}-{user.id}.pdf"),
    )
    db.session.add(upload)
    db.session.commit()
    return {"upload_id": upload.id}


def a_document(organisation):
    staff = make_user(staff_role="manager")
    document = SupplierDocument(
        organisation_id=organisation.id,
        kind="invoice",
        title="Счёт",
        published_by_id=staff.id,
        **_file_columns(f"access-doc-{organisation.id}-{staff.id}.pdf"),
    )
    db.session.add(document)
    db.session.commit()
    return {"document_id": document.id}


CASES = {
    "documents.download_upload": Case(an_upload, power=Power.UPLOAD_DOCUMENTS),
    "documents.delete_upload": Case(an_upload, power=Power.UPLOAD_DOCUMENTS),
    "documents.review_upload": Case(an_upload, staff=True, curated=True),
    "documents.staff_download_upload": Case(an_upload, staff=True),
    # Invoices are shown only to members who may see the finances.
    "documents.download_document": Case(a_document, power=Power.VIEW_FINANCE),
    "documents.withdraw_document": Case(a_document, staff=True, curated=True),
    "documents.staff_download_document": Case(a_document, staff=True),
}
