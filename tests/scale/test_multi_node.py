"""Two web nodes (separate instance folders, no shared disk) behind HAProxy, two queue workers,
PgBouncer in transaction pooling mode, Redis and an S3 bucket: what one node or worker wrote,
the other node serves; limits and locks hold across nodes; a rolling restart and a killed
node lose no request the balancer can retry, and no data.

Runs in the PostgreSQL pass (it needs a database several processes share); with CI=true a
missing HAProxy, PgBouncer, Redis or S3 endpoint fails it.
"""

import http.client
import io
import json
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.billing.models import JobStatus, StatementJob
from portal.catalog.models import Item
from portal.documents.models import CustomerUpload
from portal.extensions import db
from portal.jobs.models import BackgroundJob
from tests.documents.files import make_pdf
from tests.factories import PASSWORD, make_organisation, make_user
from tests.outage_server import CSRF_RE, Answer, Browser
from tests.scale.cluster import http_ok, start, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster(app, database_url, tmp_path_factory):
    running = start(tmp_path_factory.mktemp("multi-node"), database_url)
    yield running
    running.stop()


@pytest.fixture
def customer():
    organisation = make_organisation("pharmacy", name='ООО "Аптека Два Узла"')
    return make_user(organisation, login=f"nodes.{uuid.uuid4().hex[:6]}")


@pytest.fixture
def admin():
    return make_user(staff_role="admin", login=f"nodes.admin.{uuid.uuid4().hex[:6]}")


def on_node(cluster, name, browser=None) -> Browser:
    """A browser talking to one node; given another browser, with its cookies (its session)."""
    node = Browser(cluster.node_urls[name])
    if browser is not None:
        node.jar = browser.jar
        node.opener = browser.opener
    return node


def signed_in(cluster, user, name="a") -> Browser:
    browser = on_node(cluster, name)
    answer = browser.sign_in(user.login, PASSWORD)
    assert answer.status == 302, answer
    return browser


def post_file(browser: Browser, path, fields: dict, file_field, filename, content, mimetype):
    """A multipart form POST (the browser's own encoder does only urlencoded forms)."""
    page = browser.get(path)
    assert page.status == 200, page
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in {**fields, "csrf_token": CSRF_RE.search(page.text).group(1)}.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: {mimetype}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        browser.base_url + path,
        data=b"".join(parts),
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with browser.opener.open(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def committed(statement):
    db.session.rollback()  # see what the servers committed
    return db.session.scalar(statement)


# --- files: what one node stores, the other serves -----------------------------------------


def test_a_scan_uploaded_on_node_a_downloads_on_node_b(cluster, customer):
    content = make_pdf(page=b"/Rotate 0")
    a = signed_in(cluster, customer, "a")
    answer = post_file(
        a,
        "/documents/scans/new",
        {"category": "signed_act"},
        "file",
        "akt.pdf",
        content,
        "application/pdf",
    )
    assert answer.status == 302, answer
    upload_id = committed(select(func.max(CustomerUpload.id)))
    b = on_node(cluster, "b", a)
    download = b.get(f"/documents/scans/{upload_id}/download")
    assert download.status == 200, download
    assert download.body == content
    # Neither node kept it on its own disk: node B had nothing to read it from.
    for node in ("a", "b"):
        assert not [p for p in (cluster.workdir / node).rglob("*.pdf")], node


def test_a_statement_requested_on_a_is_made_by_a_worker_and_downloads_on_b(cluster, customer):
    a = signed_in(cluster, customer, "a")
    page = a.get("/statements/")
    assert page.status == 200, page
    answer = a.post(
        "/statements/",
        {
            "period_start": date(date.today().year, 1, 1).isoformat(),
            "period_end": date.today().isoformat(),
            "contract_id": "",
        },
    )
    assert answer.status in (302, 200), answer
    job_id = committed(select(func.max(StatementJob.id)))
    assert job_id is not None

    def done():
        return committed(select(StatementJob.status).where(StatementJob.id == job_id)) in (
            JobStatus.DONE,
            JobStatus.FAILED,
        )

    wait_for(done, "the statement job", timeout=60)
    job = db.session.get(StatementJob, job_id)
    assert job.status == JobStatus.DONE, job.error
    workers = [
        name
        for name in ("worker1", "worker2")
        if "generate_statement" in cluster.processes[name].log.read_text()
    ]
    assert workers, "no worker made the statement"
    b = on_node(cluster, "b", a)
    pdf = b.get(f"/statements/{job_id}/statement.pdf")
    assert pdf.status == 200, pdf
    assert pdf.body.startswith(b"%PDF")
    xlsx = b.get(f"/statements/{job_id}/statement.xlsx")
    assert xlsx.status == 200 and xlsx.body.startswith(b"PK"), xlsx


def test_mail_is_sent_by_a_worker(cluster, customer):
    a = on_node(cluster, "a")
    answer = a.post(
        "/password/forgot", {"identifier": customer.login}, form_page="/password/forgot"
    )
    assert answer.status == 302, answer

    def sent():
        return [
            path
            for name in ("worker1", "worker2")
            for path in (cluster.workdir / name / "outbox").glob("*.eml")
            if customer.email in path.read_text(errors="replace")
        ]

    wait_for(sent, "the password mail", timeout=30)
    assert len(sent()) == 1  # sent once, by one worker
    assert not list((cluster.workdir / "a" / "outbox").glob("*.eml"))  # not by the node


# --- the catalogue: an import on one node is seen on the other at once ----------------------


def catalogue_file(sku, name) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["sku", "trade_name", "generic_name", "manufacturer", "barcode", "vat", "rx", "price"]
    )
    sheet.append([sku, name, "Лоратадин", "Озон", "", "10", "нет", "9"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rows(page) -> int:
    return page.text.count('data-testid="item-row"')


def test_a_catalogue_import_on_a_is_seen_on_b_at_once(cluster, customer, admin):
    word = "Кларидол" + uuid.uuid4().hex[:4]
    b = signed_in(cluster, customer, "b")
    before = b.get(f"/catalog/?q={urllib.parse.quote(word)}")
    assert before.status == 200 and rows(before) == 0  # node B now has this answer cached
    staff = signed_in(cluster, admin, "a")
    answer = post_file(
        staff,
        "/backoffice/catalog/import",
        {},
        "file",
        "catalog.xlsx",
        catalogue_file(f"N{uuid.uuid4().hex[:6]}", word),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    # The import is a queue job: node A sends the admin to its page; either worker does it.
    assert answer.status == 302 and "/backoffice/jobs/" in answer.location, answer
    job_id = int(answer.location.rstrip("/").rsplit("/", 1)[-1])
    staff_on_b = on_node(cluster, "b", staff)  # the admin's session, through node B
    wait_for(
        lambda: (
            json.loads(staff_on_b.get(f"/backoffice/jobs/{job_id}/status").text)["status"] == "done"
        ),
        "the import job",
        timeout=30,
    )
    job = committed(select(BackgroundJob).where(BackgroundJob.id == job_id))
    assert job.file_key is None  # the upload left the store once the job was done
    page = staff_on_b.get(f"/backoffice/jobs/{job_id}")
    assert page.status == 200 and 'data-status="done"' in page.text
    assert committed(select(func.count(Item.id)).where(Item.trade_name == word)) == 1
    after = b.get(f"/catalog/?q={urllib.parse.quote(word)}")
    assert after.status == 200 and rows(after) == 1 and word in after.text


# --- limits and locks are shared -----------------------------------------------------------


def test_sign_in_lock_holds_across_nodes(cluster, customer):
    for attempt in range(5):  # LOGIN_MAX_FAILURES, alternating the nodes
        node = on_node(cluster, "ab"[attempt % 2])
        assert node.sign_in(customer.login, "wrong-password").status == 422  # refused form
    for name in ("a", "b"):  # the right password is refused now, on either node
        answer = on_node(cluster, name).sign_in(customer.login, PASSWORD)
        assert answer.status != 302, (name, answer)


def test_api_rate_limit_holds_across_nodes(cluster):
    statuses = []
    for attempt in range(7):  # PORTAL_API_RATE_LIMIT = 6 per minute
        node = on_node(cluster, "ab"[attempt % 2])
        statuses.append(node.get("/api/v1/catalog/items").status)
    assert statuses[:6] == [401] * 6
    assert statuses[6] == 429  # on node A, after three requests there and three on B


# --- restarts and failures -----------------------------------------------------------------


class Traffic:
    """Anonymous page views through the balancer, in a thread, every answer kept with the
    phase of the test it came in."""

    def __init__(self, url):
        self.browser = Browser(url)
        self.answers = []  # (phase, status or error)
        self.phase = "before"
        self.stop = threading.Event()
        self.hold = threading.Event()  # set: finish the request under way, then wait
        self.idle = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            if self.hold.is_set():
                self.idle.set()
                time.sleep(0.01)
                continue
            phase = self.phase
            try:
                status = self.browser.get("/login").status
            except (OSError, http.client.HTTPException) as error:
                status = repr(error)
            self.answers.append((phase, status))

    def between_requests(self):
        """Hold the traffic: the code run in the `with` block meets no request in flight."""
        traffic = self

        class Paused:
            def __enter__(self):
                traffic.idle.clear()
                traffic.hold.set()
                assert traffic.idle.wait(30)

            def __exit__(self, *exc):
                traffic.hold.clear()

        return Paused()

    def wait_for_answers(self, phase, count, timeout=30):
        deadline = time.monotonic() + timeout
        while self.count(phase) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def count(self, phase):
        return sum(1 for answer_phase, _ in self.answers if answer_phase == phase)

    def failures(self):
        return [answer for answer in self.answers if answer[1] != 200]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=40)


def worker_pids(cluster, name):
    import subprocess

    output = subprocess.run(
        ["pgrep", "-P", str(cluster.processes[name].popen.pid)], capture_output=True, text=True
    ).stdout
    return set(output.split())


def reload_gracefully(cluster, name):
    old = worker_pids(cluster, name)
    cluster.processes[name].signal(signal.SIGHUP)
    wait_for(lambda: worker_pids(cluster, name) - old, f"node {name}'s new worker")
    wait_for(lambda: http_ok(cluster.node_urls[name] + "/healthz"), f"node {name} after reload")


def test_rolling_restart_then_a_killed_node_lose_no_request_and_no_data(cluster, customer):
    content = make_pdf(page=b"/Rotate 90")
    browser = signed_in(cluster, customer, "a")
    browser.base_url = cluster.balancer_url
    answer = post_file(
        browser,
        "/documents/scans/new",
        {"category": "licence"},
        "file",
        "licence.pdf",
        content,
        "application/pdf",
    )
    assert answer.status == 302, answer
    upload_id = committed(select(func.max(CustomerUpload.id)))

    with Traffic(cluster.balancer_url) as traffic:
        for name in ("a", "b"):  # gunicorn's graceful reload, one node after the other
            traffic.phase = f"reload {name}"
            reload_gracefully(cluster, name)
            traffic.wait_for_answers(f"reload {name}", 3)
        # Node A dies outright. HAProxy still sends it requests until its checks fail (three,
        # 1 s apart): each finds the port closed and is retried on node B. (A request whose
        # answer node A had begun to send cannot be retried: the kill falls between requests.)
        with traffic.between_requests():
            cluster.processes["a"].signal(signal.SIGKILL)
            traffic.phase = "a killed"
        time.sleep(3)  # HAProxy notices after three failed checks, 1 s apart
        traffic.wait_for_answers("a killed", 10)
    assert traffic.count("reload a") >= 3 and traffic.count("reload b") >= 3
    assert traffic.count("a killed") >= 10
    assert traffic.failures() == []

    # No data lost: what was stored before is served by the node left.
    download = browser.get(f"/documents/scans/{upload_id}/download")
    assert download.status == 200 and download.body == content
