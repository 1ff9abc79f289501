"""Shared helpers of the API benchmarks: a gunicorn server whose workers' peak memory can be
read, a key for a demo user, a keep-alive JSON client. Standard library only (plus the app)."""

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_common import database_url, free_port  # noqa: E402


def issue_key(login: str, powers) -> str:
    """A fresh API key of a demo user's first organisation (made through portal.api.keys)."""
    os.environ.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(32))
    from sqlalchemy import select

    from portal import create_app
    from portal.accounts.models import User
    from portal.api import keys
    from portal.extensions import db
    from portal.organisations.models import Membership

    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url()})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            sys.exit(f"no user {login!r}: run `flask seed-demo` on the bench database first")
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        _key, token = keys.create_key(membership, name="bench", powers=tuple(powers))
        db.session.commit()
        organisation_id = membership.organisation_id
    return token, organisation_id


def _sqlalchemy_url() -> str:
    url = database_url()
    return url if "+psycopg" in url else url.replace("postgresql://", "postgresql+psycopg://", 1)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process: its peak resident memory so far, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def server(workers=1):
    """gunicorn -w N wsgi:app on PORTAL_DATABASE_URL with a rate limit out of the way;
    yields (port, the workers' pids)."""
    port = free_port()
    env = dict(os.environ)
    env["PORTAL_DATABASE_URL"] = _sqlalchemy_url()
    env.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(32))
    env["PORTAL_CACHE_KEY_PREFIX"] = f"bench-{secrets.token_hex(4)}:"
    env["PORTAL_API_RATE_LIMIT"] = "1000000 per minute"
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--timeout", "120", "wsgi:app"]
    master = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if JsonClient(port, "").request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or master.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port, children(master.pid)
    finally:
        master.terminate()
        master.wait(timeout=20)


class JsonClient:
    """One keep-alive connection sending the key, as an ERP's HTTP library does."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.token = token

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()
