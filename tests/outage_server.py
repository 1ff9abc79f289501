"""A portal served the production way (gunicorn -c gunicorn.conf.py, PORTAL_ENV=production,
Redis for limits, cache and queue), whose Redis or database can be cut under it.

The server reaches Redis and/or the database through CuttableProxy (tests/tcp_proxy.py), so a
test plays the outage while the server keeps running. A small cookie-keeping HTTP client plays
the browser; it never follows redirects, so each answer can be checked.
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TEST_REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def reachable_redis() -> urllib.parse.SplitResult:
    """The test Redis (CI=true: it must be there, else the run fails)."""
    import redis

    try:
        client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {TEST_REDIS_URL} unreachable: {error}")
        pytest.skip(f"Redis at {TEST_REDIS_URL} unreachable")
    return urllib.parse.urlsplit(TEST_REDIS_URL)


def redis_url_via(port: int) -> str:
    parts = urllib.parse.urlsplit(TEST_REDIS_URL)
    return parts._replace(netloc=f"127.0.0.1:{port}").geturl()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Answer:
    def __init__(self, status, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")

    @property
    def location(self):
        return self.headers.get("Location", "")

    def __repr__(self):
        return f"<Answer {self.status} {self.text[:300]!r}>"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies kept between requests, like a browser; redirects are not followed."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects()
        )
        self.last_csrf = None

    def request(self, method, path, data=None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = self.base_url + path  # always http://127.0.0.1:<port>
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                answer = Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read())
        match = CSRF_RE.search(answer.text)
        if match:
            self.last_csrf = match.group(1)
        return answer

    def get(self, path) -> Answer:
        return self.request("GET", path)

    def post(self, path, data: dict, form_page: str | None = None) -> Answer:
        """POST a form, with the CSRF token of `form_page` (or of the last page seen)."""
        if form_page is not None or self.last_csrf is None:
            page = self.get(form_page or "/login")
            assert page.status == 200, page
        return self.request("POST", path, {**data, "csrf_token": self.last_csrf})

    def sign_in(self, login, password) -> Answer:
        return self.post("/login", {"login": login, "password": password}, form_page="/login")


class OutageServer:
    def __init__(self, url, workdir: Path, log: Path, env: dict):
        self.url = url
        self.workdir = workdir
        self.log = log
        self.env = env

    def browser(self) -> Browser:
        return Browser(self.url)

    def log_text(self, since: int = 0) -> str:
        return self.log.read_text(errors="replace")[since:]

    def log_mark(self) -> int:
        return len(self.log.read_text(errors="replace"))


def start_server(workdir: Path, database_url: str, redis_url: str, **env_overrides):
    """Start gunicorn with the committed gunicorn.conf.py; yields an OutageServer."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "outage-test-secret-key",
        "PORTAL_HTTPS": "0",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_REDIS_URL": redis_url,
        "PORTAL_STATEMENTS_QUEUE_NAME": f"portal-outage-{uuid.uuid4().hex[:8]}",
        "PORTAL_CACHE_KEY_PREFIX": f"portal-outage-{uuid.uuid4().hex[:8]}:",
        "PORTAL_MAIL_OUTBOX": str(workdir / "outbox"),
        "PORTAL_UPLOAD_DIR": str(workdir / "uploads"),
        "PORTAL_REPORT_DIR": str(workdir / "reports"),
        "PORTAL_BASE_URL": url,
        "PORTAL_WEB_BIND": f"127.0.0.1:{port}",
        # The tests publish and accept consent versions between requests: no cached version.
        "PORTAL_CONSENT_CACHE_SECONDS": "0",
        "PORTAL_WEB_WORKERS": "1",  # one process: what it learnt about an outage is its own
        **env_overrides,
    }
    for name in ("PORTAL_SMTP_HOST", "PORTAL_LOG_FORMAT"):
        env.pop(name, None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = workdir / "server.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    server = OutageServer(url, workdir, log, env)
    try:
        _wait_until_up(url + "/healthz", process, log)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(url, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the portal server exited during start-up:\n" + log.read_text())
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the portal server did not answer at {url}:\n" + log.read_text())
