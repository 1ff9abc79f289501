"""Shared helpers of the catalogue benchmarks: the gunicorn server, a keep-alive HTTP client
with cookies and CSRF tokens, percentiles. Standard library only (plus psycopg)."""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-portal-2026"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def database_url() -> str:
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set PORTAL_DATABASE_URL to the PostgreSQL benchmark database.")
    return url


def connect():
    return psycopg.connect(database_url().replace("postgresql+psycopg://", "postgresql://"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share: float) -> float:
    """Nearest-rank percentile (share 0..1) of a list of numbers."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values) -> str:
    return (
        f"p50 {percentile(values, 0.50):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms  "
        f"p99 {percentile(values, 0.99):6.1f} ms  (n={len(values)})"
    )


@contextmanager
def gunicorn(
    workers=2,
    threads=1,
    port=None,
    access_log=None,
    app="wsgi:app",
    env=None,
    ready="/healthz",
    config=None,
):
    """Run `gunicorn -w N wsgi:app` against PORTAL_DATABASE_URL; yields the port.

    `app` is the WSGI application (bench/bare_app.py's yardsticks use the very same options);
    `env` is added to the environment. The access log records each request's duration in
    microseconds (%(D)s): that is the server time of the request, measured inside the worker,
    without client or queue time.
    """
    port = port or free_port()
    env = {**os.environ, **(env or {})}
    env.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(32))
    # A fresh cache namespace: answers cached by an earlier run (Redis) must not count.
    env["PORTAL_CACHE_KEY_PREFIX"] = f"bench-{secrets.token_hex(4)}:"
    # The benchmark signs in many clients from one address; the login throttle would refuse.
    env["PORTAL_RATELIMIT_LOGIN"] = "100000 per minute"
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["-k", "gthread", "--threads", str(threads)]
    if access_log:
        command += [
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(m)s %(U)s %(s)s %(D)s",
        ]
    if config:  # e.g. gunicorn.conf.py (its hooks); the options above still win
        command += ["-c", str(config)]
    command.append(app)
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _body = Client(port).get(ready)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


class Client:
    """One keep-alive HTTP/1.1 connection with its own cookies, like one browser."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def _headers(self, extra=None):
        headers = {"Accept-Language": "ru"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=self._headers(headers))
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn's sync worker closes idle keep-alive connections: reconnect once.
                self.connection.close()
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or cookie_value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = cookie_value
        self.last_location = response.getheader("Location")
        return response.status, data

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields: dict):
        body = urllib.parse.urlencode(fields, doseq=True)
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(self, path, fields: dict, files: dict):
        boundary = "bench" + secrets.token_hex(12)
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in files.items():
            parts.append(
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST",
            path,
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def csrf_token(self, path) -> str:
        status, body = self.get(path)
        match = CSRF_RE.search(body.decode())
        if status != 200 or not match:
            raise RuntimeError(f"no form with a CSRF token at {path} (HTTP {status})")
        return match.group(1) or match.group(2)

    def login(self, login, password=DEMO_PASSWORD):
        token = self.csrf_token("/login")
        status, _ = self.post_form(
            "/login", {"csrf_token": token, "login": login, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"login as {login} failed (HTTP {status})")
        # A user who has not yet accepted the current offer agreement is sent there first.
        status, _ = self.get("/offer")
        if status == 200:
            token = self.csrf_token("/offer")
            status, _ = self.post_form("/offer", {"csrf_token": token, "accept": "y"})
            if status != 302:
                raise RuntimeError(f"{login} could not accept the offer (HTTP {status})")
        # Then the consent to processing personal data, asked once after the offer.
        status, body = self.get("/privacy/consent")
        if status == 200:
            page = body.decode()
            version = re.search(r'name="version"[^>]*value="([^"]+)"', page)
            match = CSRF_RE.search(page)
            fields = {"csrf_token": match.group(1) or match.group(2), "accept": "y"}
            if version:
                fields["version"] = version.group(1)
            status, _ = self.post_form("/privacy/consent", fields)
            if status != 302:
                raise RuntimeError(f"{login} could not give the consent (HTTP {status})")
        return self


def read_access_log(path, path_prefix: str) -> list[float]:
    """Server times in ms of the logged requests whose path starts with the prefix."""
    times = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1].startswith(path_prefix) and parts[2] == "200":
            times.append(int(parts[3]) / 1000)
    return times
