import threading

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.documents import services
from portal.documents.models import CustomerUpload
from portal.errors import UserError
from portal.extensions import db
from tests.factories import make_user


@pytest.mark.postgres
def test_two_managers_deciding_the_same_scan_at_once_make_one_decision(app, buyer, pharmacy):
    upload = CustomerUpload(
        organisation_id=pharmacy.id,
        uploaded_by_id=buyer.id,
        category="other",
        stored_name="concurrent.pdf",
        original_name="a.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    db.session.add(upload)
    managers = [make_user(staff_role="manager") for _ in range(2)]
    db.session.commit()
    upload_id, manager_ids = upload.id, [m.id for m in managers]
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(manager_id, accept):
        with app.test_request_context():
            from portal.accounts.models import User

            manager = db.session.get(User, manager_id)
            row = db.session.get(CustomerUpload, upload_id)
            barrier.wait()
            try:
                services.review_upload(row, manager, accept=accept, comment="решение")
                db.session.commit()
                outcomes.append("decided")
            except UserError:
                db.session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=decide, args=(manager_ids[0], True)),
        threading.Thread(target=decide, args=(manager_ids[1], False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["decided", "refused"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("documents.upload_%ed"))
    ).all()
    assert len(events) == 1
