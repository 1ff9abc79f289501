"""Browser tests: real server processes (gunicorn and the worker) and Debian's Chromium.

The server gets its own database (a temporary SQLite file, or a throwaway PostgreSQL database
when PORTAL_TEST_DATABASE_URL is set), migrated with `flask db upgrade` and loaded with the demo
data, and its own mail outbox folder. Screenshots go to test-artifacts/e2e/ (git-ignored).

gunicorn always runs with the committed gunicorn.conf.py (3 workers). In the PostgreSQL pass
the portal runs as in production (docs/OPERATIONS.md): PORTAL_ENV=production, Redis for rate
limits and the job queue, JSON logs, the background worker as its own process.
"""

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import IN_CI, TEST_DATABASE_URL, create_throwaway_postgres

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url, process, timeout=90):  # 3 workers start slowly on a busy machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the portal server exited during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the portal server did not answer at {url}")


@pytest.fixture(scope="session")
def playwright_browser():
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, url, outbox: Path, env: dict):
        self.url = url
        self.outbox = outbox
        self.env = env

    def messages_to(self, address):
        files = sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        found = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files
        ]
        return [m for m in found if address in m["To"]]

    def links_in(self, message):
        text = message.get_body(preferencelist=("plain",)).get_content()
        return [line.strip() for line in text.splitlines() if line.strip().startswith(self.url)]

    def flask(self, *args):
        return subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("live")
    drop = None
    if TEST_DATABASE_URL:
        database_url, drop = create_throwaway_postgres()
    else:
        database_url = f"sqlite:///{workdir / 'portal.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "e2e-secret-key",
        "PORTAL_MAIL_OUTBOX": str(workdir / "outbox"),
        "PORTAL_UPLOAD_DIR": str(workdir / "uploads"),
        "PORTAL_REPORT_DIR": str(workdir / "reports"),
        "PORTAL_BASE_URL": url,
        "PORTAL_RATELIMIT_APPLICATION_FORM": "100 per hour",
    }
    env.pop("PORTAL_SMTP_HOST", None)
    env["PORTAL_STATEMENTS_QUEUE_PATH"] = str(workdir / "huey.db")
    server = LiveServer(url, workdir / "outbox", env)
    server.flask("db", "upgrade")
    server.flask("seed-demo")  # demo data exists only in development databases...
    if TEST_DATABASE_URL:  # ...then the same database is served the production way
        env.update(
            PORTAL_ENV="production",
            PORTAL_HTTPS="0",
            PORTAL_REDIS_URL=_reachable_redis(),
            # this run's own queue and limits, even if another run shares the Redis
            PORTAL_STATEMENTS_QUEUE_NAME=f"portal-e2e-{uuid.uuid4().hex[:8]}",
            PORTAL_RATELIMIT_LOGIN="1000 per minute",
        )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # The committed production settings (gunicorn.conf.py), as docs/OPERATIONS.md starts it.
    env.update(PORTAL_WEB_BIND=f"127.0.0.1:{port}", PORTAL_WEB_WORKERS="3")
    command = [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"]
    worker_command = [sys.executable, "-m", "flask", "worker"]
    with open(workdir / "server.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        worker = subprocess.Popen(worker_command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            _wait_until_up(url + "/healthz", process)
            yield server
        finally:
            for child in (process, worker):
                child.terminate()
                child.wait(timeout=20)
            if drop:
                drop()


def _reachable_redis():
    """The Redis for rate limits and the queue (CI=true: it must be there)."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    try:
        client = redis.Redis.from_url(url)
        client.ping()
        client.close()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {url} unreachable: {error}")
        pytest.skip(f"Redis at {url} unreachable")
    return url


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request, playwright_browser, live_server):
    context = playwright_browser.new_context(viewport=VIEWPORTS[request.param], locale="ru-RU")
    page = context.new_page()
    page.viewport_name = request.param
    shots = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shots.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def snap(step):
        page.screenshot(path=str(shots / f"{next(counter):02d}-{step}.png"), full_page=True)

    page.snap = snap
    yield page
    context.close()


def sign_in(page, server, login, password="demo-portal-2026"):
    page.goto(server.url + "/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("input[type=submit]")
    if "/offer" in page.url:
        page.check("#accept")
        page.click("input[type=submit]")
    if "/privacy/consent" in page.url:  # the separate consent to personal data processing
        page.check("#accept")
        page.click("input[type=submit]")


def open_menu_if_collapsed(page):
    """On narrower screens the main menu hides behind the toggler."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.wait_for_selector("#mainnav.show")
