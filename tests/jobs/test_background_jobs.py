"""Imports and documents as queue jobs: the page sends the person to the job's page, any
worker does the job, a retried job does nothing twice, a refusal or a crash is shown there, and
the upload stays in the file store until the job has finished."""

import io
from datetime import date, timedelta

from markupsafe import escape
from openpyxl import Workbook
from sqlalchemy import func, select

from portal import clock
from portal.audit import AuditEvent
from portal.billing.models import EntryKind, LedgerEntry
from portal.catalog import importer
from portal.catalog.models import Item
from portal.extensions import db
from portal.files import store as file_store
from portal.jobs import background
from portal.jobs.models import BackgroundJob, FailedJob
from portal.jobs.tasks import retry_failed_job
from tests.factories import login, make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def catalogue(*rows) -> dict:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["sku", "trade_name", "manufacturer", "vat", "rx", "price"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return {"file": (io.BytesIO(buffer.getvalue()), "catalog.xlsx")}


def job_of(response) -> BackgroundJob:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "/backoffice/jobs/" in location
    db.session.rollback()
    return db.session.get(BackgroundJob, int(location.rstrip("/").rsplit("/", 1)[-1]))


def upload_exists(job) -> bool:
    return job.file_key is not None and file_store.files().exists(f"jobs/{job.file_key}")


def test_a_catalogue_import_waits_for_a_worker_and_is_not_imported_twice(app, admin, worker):
    client = app.test_client()
    login(client, admin)
    job = job_of(client.post("/backoffice/catalog/import", data=catalogue(("Q1", "Кларитин"))))
    page = client.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="pending"' in page and "hx-get" in page  # the page polls its status
    assert db.session.scalar(select(func.count(Item.id)).where(Item.sku == "Q1")) == 0
    assert upload_exists(job)  # kept in the store for the worker

    assert worker() == 1
    job = db.session.get(BackgroundJob, job.id)
    assert job.status == "done" and job.result["created"] == 1
    assert job.file_key is None  # the upload is removed once the job has finished
    page = client.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="done"' in page and "создано 1" in page
    assert client.get(f"/backoffice/jobs/{job.id}/status").get_json()["status"] == "done"

    # The same job again (a retry, a second worker): nothing is imported a second time.
    app.extensions[background.TASK_EXTENSION](job.id)
    assert worker() == 1
    imported = select(func.count(AuditEvent.id)).where(AuditEvent.action == "catalog.imported")
    assert db.session.scalar(imported) == 1
    assert db.session.get(BackgroundJob, job.id).attempts == 1


def test_a_rejected_import_is_shown_on_the_job_page_and_imports_nothing(app, admin, worker):
    client = app.test_client()
    login(client, admin)
    data = catalogue(
        ("R1", "Нурофен", "Озон", "10", "нет", "10"), ("R2", "Кеторол", "", "", "", "-5")
    )
    job = job_of(client.post("/backoffice/catalog/import", data=data))
    worker()
    job = db.session.get(BackgroundJob, job.id)
    assert job.status == "failed" and [row["line"] for row in job.result["rejected"]] == [3]
    page = client.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="failed"' in page and "<td>3</td>" in page
    assert db.session.scalar(select(func.count(Item.id))) == 0
    assert job.file_key is None


def test_a_crashed_job_keeps_its_file_and_is_retried_from_the_dashboard(
    app, admin, worker, monkeypatch
):
    client = app.test_client()
    login(client, admin)
    real = importer.import_catalog

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "import_catalog", crash)
    job = job_of(client.post("/backoffice/catalog/import", data=catalogue(("C1", "Арбидол"))))
    worker()
    job = db.session.get(BackgroundJob, job.id)
    assert job.status == "failed" and upload_exists(job)
    page = client.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert "disk full" not in page and "ошибки на нашей стороне" in page
    [failed] = db.session.scalars(select(FailedJob)).all()
    assert failed.kind == "imports"

    monkeypatch.setattr(importer, "import_catalog", real)
    retry_failed_job(app, failed)
    worker()
    job = db.session.get(BackgroundJob, job.id)
    assert job.status == "done" and job.attempts == 2 and job.file_key is None
    assert db.session.scalar(select(func.count(Item.id)).where(Item.sku == "C1")) == 1


def test_a_bank_statement_job_retried_posts_each_payment_once(
    app, gas_org, manager, worker, monkeypatch
):
    monkeypatch.setattr(clock, "local_today", lambda: date(2026, 11, 22))
    client = app.test_client()
    login(client, manager)
    text = f"payer_inn;amount;date;document_number\n{gas_org.inn};1000,50;20.11.2026;501\n"
    data = {"file": (io.BytesIO(text.encode()), "statement.csv")}
    job = job_of(client.post("/backoffice/billing/payments", data=data))
    worker()
    app.extensions[background.TASK_EXTENSION](job.id)  # the job once more
    worker()
    job = db.session.get(BackgroundJob, job.id)
    assert job.status == "done" and job.result["count"] == 1  # not «already recorded»
    payments = select(func.count(LedgerEntry.id)).where(
        LedgerEntry.organisation_id == gas_org.id, LedgerEntry.kind == EntryKind.PAYMENT
    )
    assert db.session.scalar(payments) == 1
    page = client.get(f"/backoffice/jobs/{job.id}").get_data(as_text=True)
    assert "Загружено оплат: 1" in page and str(escape(gas_org.legal_name)) in page


def test_only_the_person_who_asked_or_an_administrator_sees_a_job(app, manager, worker):
    job = BackgroundJob(task="catalog_import", kind="imports", requested_by_id=manager.id)
    db.session.add(job)
    db.session.commit()
    colleague = app.test_client()
    login(colleague, make_user(login="colleague", staff_role="manager"))
    assert colleague.get(f"/backoffice/jobs/{job.id}").status_code == 404
    assert colleague.get(f"/backoffice/jobs/{job.id}/status").status_code == 404
    owner = app.test_client()
    login(owner, manager)
    assert owner.get(f"/backoffice/jobs/{job.id}").status_code == 200
    chief = app.test_client()
    login(chief, make_user(login="chief", staff_role="admin"))
    assert chief.get(f"/backoffice/jobs/{job.id}").status_code == 200


def test_the_queue_unavailable_refuses_the_import_and_keeps_nothing(
    app, admin, worker, monkeypatch
):
    monkeypatch.setattr(background, "available", lambda app: False)
    client = app.test_client()
    login(client, admin)
    response = client.post("/backoffice/catalog/import", data=catalogue(("U1", "Ингавирин")))
    assert response.status_code == 422
    assert "очередь" in response.get_data(as_text=True).lower()
    assert db.session.scalar(select(func.count(BackgroundJob.id))) == 0
    assert list(file_store.files().entries("jobs/")) == []
    assert worker() == 0


def test_in_the_process_a_refused_import_is_a_refused_form_with_no_job_kept(app, admin):
    assert not app.config["JOBS_QUEUE"]  # the embedded default: done by the process
    client = app.test_client()
    login(client, admin)
    response = client.post(
        "/backoffice/catalog/import",
        data=catalogue(("P1", "Кагоцел", "", "", "", "-1")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "<td>2</td>" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BackgroundJob.id))) == 0
    assert list(file_store.files().entries("jobs/")) == []


def test_a_job_whose_worker_died_is_queued_again_when_its_page_asks(app, admin, worker):
    client = app.test_client()
    login(client, admin)
    job = job_of(client.post("/backoffice/catalog/import", data=catalogue(("S1", "Анаферон"))))
    worker.huey.flush()  # the worker took it and was killed: the queue no longer has it
    job.status, job.attempts = "running", 1
    job.started_at = job.created_at - timedelta(hours=1)
    db.session.commit()
    assert client.get(f"/backoffice/jobs/{job.id}/status").get_json()["status"] == "running"
    assert worker() == 1
    assert db.session.get(BackgroundJob, job.id).status == "done"
    assert db.session.scalar(select(func.count(Item.id)).where(Item.sku == "S1")) == 1
