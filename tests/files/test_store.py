"""The file store on both backends (disk and a real S3 endpoint), and its faults.

The S3 tests talk to moto's standalone server in its own process (tests/s3_server.py); each
test gets a bucket of its own.
"""

import hashlib
import io
import logging
import secrets
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.documents.models import CustomerUpload
from portal.extensions import db
from portal.files import commands, store
from tests.documents.files import PDF_BYTES, download, image_bytes
from tests.factories import login, make_user
from tests.s3_server import CREDENTIALS, free_port, s3_config


@pytest.fixture
def s3(app, s3_server, monkeypatch):
    """The app's files in a fresh bucket of the moto server for this test."""
    bucket = s3_server.create_bucket(f"portal-{secrets.token_hex(6)}")
    for name, value in s3_config(s3_server, bucket).items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED", False)
    return {"server": s3_server, "bucket": bucket, "client": s3_server.client()}


@pytest.fixture
def local(app, tmp_path, monkeypatch):
    """The app's files on a fresh folder of the disk for this test."""
    monkeypatch.setitem(app.config, "STORAGE_URL", None)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "REPORT_DIR", str(tmp_path / "reports"))
    return tmp_path


@pytest.fixture(params=["local", "s3"])
def backend(request):
    return request.param, request.getfixturevalue(request.param)


@pytest.fixture
def unreachable(app, monkeypatch):
    """An S3 store whose endpoint nobody listens on (the store is down)."""
    monkeypatch.setitem(app.config, "STORAGE_URL", "s3://portal-down/files")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.config, "S3_REGION", CREDENTIALS["AWS_DEFAULT_REGION"])
    monkeypatch.setitem(app.config, "STORAGE_TIMEOUT_SECONDS", 1)
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED", False)


def upload_scan(client, data=PDF_BYTES, name="акт.pdf"):
    form = {"category": "signed_act", "file": (io.BytesIO(data), name)}
    return client.post("/documents/scans/new", data=form, content_type="multipart/form-data")


def uploads():
    return db.session.scalars(select(CustomerUpload)).all()


def object_names(s3):
    answer = s3["client"].list_objects_v2(Bucket=s3["bucket"])
    return {item["Key"] for item in answer.get("Contents", [])}


# --- the interface, both backends --------------------------------------------------------------


def test_put_read_stream_list_delete_on_both_backends(backend):
    files = store.files()
    data = secrets.token_bytes(600_000)  # several chunks
    key = store.new_key(".bin", folder="catalog")
    saved = files.put(key, data, "application/octet-stream")
    assert saved.size == len(data) and saved.sha256 == hashlib.sha256(data).hexdigest()
    assert files.exists(key) and files.size(key) == len(data)
    assert files.read(key) == data
    assert b"".join(files.stream(key)) == data
    with files.open(key) as handle:
        assert handle.read(10) == data[:10]
    [entry] = [e for e in files.entries("catalog/") if e.key == key]
    assert entry.size == len(data)
    assert abs(entry.modified - datetime.now(UTC)) < timedelta(minutes=5)
    files.delete(key)
    files.delete(key)  # deleting what is gone is not an error
    assert not files.exists(key)
    with pytest.raises(store.FileMissing):
        files.read(key)


def test_keys_that_could_leave_the_store_are_refused(backend):
    for key in ("../secret", "/etc/passwd", "a/../../b", ".hidden", "a//b", ""):
        with pytest.raises(ValueError, match="not a file store key"):
            store.files().put(key, b"x")


def test_the_areas_are_apart(backend):
    store.files().put("statements/a.pdf", b"upload")
    store.reports().put("statements/a.pdf", b"report")
    assert store.files().read("statements/a.pdf") == b"upload"
    assert store.reports().read("statements/a.pdf") == b"report"


def test_s3_objects_sit_under_the_prefix_and_area_with_their_sha256(s3):
    saved = store.files().put("catalog/x.pdf", PDF_BYTES, "application/pdf")
    head = s3["client"].head_object(Bucket=s3["bucket"], Key="portal/uploads/catalog/x.pdf")
    assert head["Metadata"]["sha256"] == saved.sha256
    assert head["ContentType"] == "application/pdf"


# --- uploads and downloads through the pages ------------------------------------------------------


def test_scan_uploaded_to_the_bucket_downloads_with_its_headers(s3, login_as, buyer):
    client = login_as(buyer)
    assert upload_scan(client).status_code == 302
    [row] = uploads()
    assert object_names(s3) == {f"portal/uploads/{row.stored_name}"}
    assert not Path(client.application.config["UPLOAD_DIR"], row.stored_name).exists()
    response = download(client, f"/documents/scans/{row.id}/download")
    assert response.status_code == 200 and response.data == PDF_BYTES
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(PDF_BYTES))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%D0%B0%D0%BA%D1%82.pdf" in disposition


def test_another_organisation_cannot_download_from_the_bucket(
    s3, app, login_as, buyer, other_pharmacy
):
    upload_scan(login_as(buyer))
    [row] = uploads()
    outsider = make_user(other_pharmacy)
    db.session.commit()
    other = app.test_client()
    login(other, outsider)
    response = download(other, f"/documents/scans/{row.id}/download")
    assert response.status_code == 404
    assert PDF_BYTES not in response.data


def test_presigned_download_redirects_to_a_short_lived_url(
    s3, login_as, buyer, other_pharmacy, app, monkeypatch
):
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED", True)
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED_SECONDS", 30)
    client = login_as(buyer)
    upload_scan(client)
    [row] = uploads()
    response = client.get(f"/documents/scans/{row.id}/download")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(s3["server"].endpoint + "/")
    assert "Expires=30" in location or "X-Amz-Expires=30" in location
    assert response.headers["Cache-Control"] == "private, no-store"
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 - test server
        assert fetched.read() == PDF_BYTES
        assert fetched.headers["Content-Disposition"].startswith("attachment;")
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert fetched.headers["Cache-Control"] == "private, no-store"
    # Access is still checked first: no URL for someone else's scan.
    outsider = make_user(other_pharmacy)
    db.session.commit()
    other = app.test_client()
    login(other, outsider)
    assert other.get(f"/documents/scans/{row.id}/download").status_code == 404


def test_reading_photo_in_the_bucket_is_served_inline(s3, login_as, gas_org):
    from portal.metering import services
    from portal.metering.models import Reading
    from tests.metering.helpers import add_reading, make_meter

    meter = make_meter(gas_org)
    reading = add_reading(meter, datetime(2026, 1, 20).date(), 100)
    png = image_bytes("PNG")
    reading.photo_name = "meter.png"
    store.files().put(services.photo_key("meter.png"), png)
    user = make_user(gas_org)
    db.session.commit()
    assert "portal/uploads/metering/meter.png" in object_names(s3)
    response = download(login_as(user), f"/metering/readings/{reading.id}/photo")
    assert response.status_code == 200 and response.data == png
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert db.session.get(Reading, reading.id).photo_name == "meter.png"


# --- faults --------------------------------------------------------------------------------------


def test_store_unreachable_refuses_the_upload_and_records_nothing(
    unreachable, login_as, buyer, caplog
):
    client = login_as(buyer)
    with caplog.at_level(logging.ERROR, logger="portal.files.store"):
        response = upload_scan(client)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Файловое хранилище сейчас недоступно" in page
    assert db.session.scalar(select(func.count(CustomerUpload.id))) == 0
    assert any("writing" in record.getMessage() for record in caplog.records)


def test_store_unreachable_downloads_answer_503(unreachable, login_as, buyer, pharmacy):
    # The scan and the statement were stored while the store answered; now it does not.
    client = login_as(buyer)
    row = _stored_scan(buyer, pharmacy)
    response = download(client, f"/documents/scans/{row.id}/download")
    assert response.status_code == 503
    assert "Файловое хранилище временно недоступно" in response.get_data(as_text=True)
    job = _done_statement(buyer, pharmacy)
    for fmt in ("pdf", "xlsx"):
        assert download(client, f"/statements/{job.id}/statement.{fmt}").status_code == 503


def test_statement_files_in_the_bucket_download_and_a_lost_one_is_a_404(
    s3, login_as, buyer, pharmacy
):
    from portal.billing import statements

    client = login_as(buyer)
    job = _done_statement(buyer, pharmacy)
    store.reports().put(statements.report_key(job.pdf_name), PDF_BYTES, "application/pdf")
    assert f"portal/reports/statements/{job.pdf_name}" in object_names(s3)
    response = download(client, f"/statements/{job.id}/statement.pdf")
    assert response.status_code == 200 and response.data == PDF_BYTES
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=akt-sverki-20260101-20260131.pdf"
    )
    # The XLSX of the row was never written (or was lost): a clear 404, not a 500.
    assert download(client, f"/statements/{job.id}/statement.xlsx").status_code == 404


def _done_statement(user, organisation):
    from portal.billing.models import JobStatus, StatementJob

    token = secrets.token_hex(8)
    job = StatementJob(
        organisation_id=organisation.id,
        requested_by_id=user.id,
        period_start=datetime(2026, 1, 1).date(),
        period_end=datetime(2026, 1, 31).date(),
        status=JobStatus.DONE,
        progress=100,
        fingerprint="0" * 64,
        pdf_name=f"{token}.pdf",
        xlsx_name=f"{token}.xlsx",
    )
    db.session.add(job)
    db.session.commit()
    return job


def _stored_scan(user, organisation):
    row = CustomerUpload(
        organisation_id=organisation.id,
        uploaded_by_id=user.id,
        category="signed_act",
        stored_name=f"{secrets.token_hex(20)}.pdf",
        original_name="акт.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_row_without_its_file_answers_a_clear_404_and_logs_an_error(
    backend, login_as, buyer, caplog
):
    client = login_as(buyer)
    upload_scan(client)
    [row] = uploads()
    store.files().delete(row.stored_name)  # lost from the store behind the portal's back
    with caplog.at_level(logging.ERROR, logger="portal.files.store"):
        response = download(client, f"/documents/scans/{row.id}/download")
    assert response.status_code == 404
    assert "её файла нет в хранилище" in response.get_data(as_text=True)
    [alert] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert row.stored_name in alert.getMessage() and "missing" in alert.getMessage()


def test_a_request_that_dies_after_the_file_leaves_no_row_and_an_orphan_collected(
    backend, login_as, buyer, app, monkeypatch
):
    """The file is written first, the row at the end: a node dying in between (here: the
    request failing after the file was stored) leaves no row, and the orphan is collected."""
    from portal.documents import services

    def dies(*_args, **_kwargs):
        raise RuntimeError("the node is gone")

    monkeypatch.setattr(services, "_notify_manager_of_upload", dies)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = upload_scan(login_as(buyer))
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert db.session.scalar(select(func.count(CustomerUpload.id))) == 0
    [orphan] = store.files().entries()
    # Within the grace period an object without its row is left alone (its row may be coming).
    young = commands.orphans(grace_hours=1, delete=True)
    assert young["young"] == 1 and young["deleted"] == 0 and store.files().exists(orphan.key)
    later = datetime.now(UTC) + timedelta(hours=2)
    listed = commands.orphans(grace_hours=1, now=later)
    assert [key for _area, key, _size in listed["orphans"]] == [orphan.key]
    assert store.files().exists(orphan.key)  # listing removes nothing
    removed = commands.orphans(grace_hours=1, delete=True, now=later)
    assert removed["deleted"] == 1 and not store.files().exists(orphan.key)


def test_a_write_killed_midway_leaves_no_file_under_its_name(local, monkeypatch):
    """On disk a file is written under a partial name and linked when complete."""
    import os

    def killed(*_args):
        raise OSError("killed")

    monkeypatch.setattr(os, "link", killed)
    key = store.new_key(".pdf")
    with pytest.raises(store.StoreUnavailable):
        store.files().put(key, PDF_BYTES)
    assert not store.files().exists(key)
    assert [e.key for e in store.files().entries()] == []


def test_orphans_command_reports_rows_whose_file_is_missing(backend, buyer, pharmacy, app):
    row = _stored_scan(buyer, pharmacy)  # a row, and no file
    store.files().put("catalog/nobody.pdf", PDF_BYTES)
    result = app.test_cli_runner().invoke(args=["storage-orphans", "--grace-hours", "0"])
    assert result.exit_code == 1
    assert f"missing uploads/{row.stored_name} (referenced by CustomerUpload {row.id})" in (
        result.output
    )
    assert "orphan uploads/catalog/nobody.pdf" in result.output
    assert store.files().exists("catalog/nobody.pdf")
    deleted = app.test_cli_runner().invoke(
        args=["storage-orphans", "--grace-hours", "0", "--delete"]
    )
    assert "1 orphans older than 0 h (1 deleted)" in deleted.output
    assert not store.files().exists("catalog/nobody.pdf")


# --- migrating the disk into the bucket ----------------------------------------------------------


def test_migrate_copies_the_disk_into_the_bucket_verifies_and_is_idempotent(
    local, app, login_as, buyer, s3_server, monkeypatch
):
    client = login_as(buyer)
    upload_scan(client)
    upload_scan(client, image_bytes("PNG"), "scan.png")
    store.reports().put("statements/old.pdf", PDF_BYTES)
    rows = uploads()
    bucket = s3_server.create_bucket(f"portal-{secrets.token_hex(6)}")
    for name, value in s3_config(s3_server, bucket).items():
        monkeypatch.setitem(app.config, name, value)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["storage-migrate"])
    assert first.exit_code == 0, first.output
    assert "copied 3 files" in first.output and "0 already in the bucket" in first.output
    again = runner.invoke(args=["storage-migrate"])
    assert again.exit_code == 0
    assert "copied 0 files" in again.output and "3 already in the bucket and identical" in (
        again.output
    )
    assert store.reports().read("statements/old.pdf") == PDF_BYTES
    # Downloads now come from the bucket.
    for row in rows:
        response = download(client, f"/documents/scans/{row.id}/download")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == row.sha256


def test_migrate_refuses_a_disk_file_that_does_not_match_its_row(
    local, app, login_as, buyer, s3_server, monkeypatch
):
    upload_scan(login_as(buyer))
    [row] = uploads()
    (local / "uploads" / row.stored_name).write_bytes(PDF_BYTES + b"% changed\n")
    bucket = s3_server.create_bucket(f"portal-{secrets.token_hex(6)}")
    for name, value in s3_config(s3_server, bucket).items():
        monkeypatch.setitem(app.config, name, value)
    result = app.test_cli_runner().invoke(args=["storage-migrate"])
    assert result.exit_code == 1
    assert f"FAILED uploads/{row.stored_name}" in result.output and "1 failed" in result.output
    assert not store.files().exists(row.stored_name)


def test_migrate_needs_a_bucket(local, app):
    result = app.test_cli_runner().invoke(args=["storage-migrate"])
    assert result.exit_code != 0 and "not an s3:// URL" in result.output
