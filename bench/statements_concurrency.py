"""20 statements requested at once: all delivered by the worker while pages keep answering.

    .venv/bin/python bench/statements_concurrency.py [--statements 20] [--lines 200]

Starts, on a throwaway SQLite database, the dev server (threaded) and `flask worker` as two
processes, like `make run`. One customer session posts N statement requests concurrently (each
a different period, so none is reused); meanwhile a probe keeps loading the dashboard, the
documents list and a status endpoint. Prints request and page latencies, the time until every
statement is ready, and the worker's peak memory. Asserts nothing.
"""

import argparse
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

SETUP = """
from datetime import date, timedelta
from decimal import Decimal
from sqlalchemy import select
from portal import create_app
from portal.extensions import db
from portal.accounts.models import OfferAcceptance, OfferVersion, User
from portal.billing.ledger import post_charge, post_payment
app = create_app()
with app.app_context():
    buyer = db.session.scalar(select(User).where(User.login == "buyer"))
    for offer in db.session.scalars(select(OfferVersion)):
        db.session.add(OfferAcceptance(user_id=buyer.id, offer_version_id=offer.id))
    org = buyer.memberships[0].organisation_id
    for n in range({lines}):
        day = date(2025, 1, 1) + timedelta(days=n % 365)
        if n % 3 == 2:
            post_payment(org, Decimal(900 + n), entry_date=day, description="Оплата",
                         document_number=f"ПП-{{n:05d}}")
        else:
            post_charge(org, Decimal(1500 + n), entry_date=day, description="Отгрузка",
                        document_number=f"УПД-{{n:05d}}")
    db.session.commit()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(name, values):
    return (
        f"{name:<34} n={len(values):<5} p50 {percentile(values, 50) * 1000:7.1f} ms  "
        f"p95 {percentile(values, 95) * 1000:7.1f} ms  p99 {percentile(values, 99) * 1000:7.1f} ms"
        f"  max {max(values) * 1000:7.1f} ms"
    )


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path, data):
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            return response.status, response.geturl()

    def token(self, path):
        return CSRF.search(self.get(path)[1]).group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=20)
    parser.add_argument("--lines", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    port = free_port()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "PORTAL_DATABASE_URL": f"sqlite:///{workdir / 'portal.db'}",
        "PORTAL_UPLOAD_DIR": str(workdir / "uploads"),
        "PORTAL_REPORT_DIR": str(workdir / "reports"),
        "PORTAL_STATEMENTS_QUEUE_PATH": str(workdir / "huey.db"),
        "PORTAL_MAIL_OUTBOX": str(workdir / "outbox"),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    subprocess.run([FLASK, "db", "upgrade"], check=True, **quiet)
    subprocess.run([FLASK, "seed-demo"], check=True, **quiet)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "-c", SETUP.format(lines=args.lines)], check=True, **quiet)

    server = subprocess.Popen([FLASK, "run", "--port", str(port), "--with-threads"], **quiet)
    worker = subprocess.Popen([FLASK, "worker", "--workers", "2"], **quiet)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - our http URL
                break
            except OSError:
                time.sleep(0.1)
        browser = Browser(base)
        status, _ = browser.post(
            "/login",
            {
                "login": "buyer",
                "password": "demo-portal-2026",
                "csrf_token": browser.token("/login"),
            },
        )
        token = browser.token("/statements/")

        # One request at a time first (periods without entries, so their jobs are quick).
        single_times = []
        for n in range(5):
            t0 = time.perf_counter()
            browser.post(
                "/statements/",
                {
                    "csrf_token": token,
                    "period_start": f"2024-0{n + 1}-01",
                    "period_end": f"2024-0{n + 1}-28",
                    "contract_id": "",
                },
            )
            single_times.append(time.perf_counter() - t0)
        time.sleep(2)

        post_times, job_urls, lock = [], [], threading.Lock()

        def request_one(n):
            started = time.perf_counter()
            _, url = browser.post(
                "/statements/",
                {
                    "csrf_token": token,
                    "period_start": f"2025-01-{1 + n % 28:02d}",
                    "period_end": f"2025-{6 + n // 28:02d}-30",
                    "contract_id": "",
                },
            )
            with lock:
                post_times.append(time.perf_counter() - started)
                job_urls.append(urllib.parse.urlparse(url).path)

        page_times, errors, done = [], [], threading.Event()

        def probe():
            pages = ["/", "/documents/", "/tickets/"]
            n = 0
            while not done.is_set():
                path = pages[n % len(pages)]
                started = time.perf_counter()
                try:
                    browser.get(path)
                    page_times.append(time.perf_counter() - started)
                except OSError as error:
                    errors.append(f"{path}: {error}")
                n += 1
                time.sleep(0.05)

        probe_thread = threading.Thread(target=probe)
        probe_thread.start()
        started = time.perf_counter()
        threads = [threading.Thread(target=request_one, args=(n,)) for n in range(args.statements)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        status_times, finished_at, pending = [], {}, set(job_urls)
        while pending and time.perf_counter() - started < 900:
            for path in list(pending):
                t0 = time.perf_counter()
                body = browser.get(path + "/status")[1]
                status_times.append(time.perf_counter() - t0)
                if '"status":"done"' in body.replace(" ", ""):
                    finished_at[path] = time.perf_counter() - started
                    pending.discard(path)
                elif '"status":"failed"' in body.replace(" ", ""):
                    errors.append(f"{path}: failed")
                    pending.discard(path)
            time.sleep(0.5)
        done.set()
        probe_thread.join()
        total = time.perf_counter() - started
        peak_kib = next(
            int(line.split()[1])
            for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines()
            if line.startswith("VmHWM")
        )
        print(
            f"{args.statements} statements of {args.lines} ledger lines, "
            f"worker: 2 threads; server: flask dev server (threaded); {os.cpu_count()} cores"
        )
        print(summary("POST /statements/, one at a time", single_times))
        print(summary(f"POST /statements/, {args.statements} at once", post_times))
        print(summary("pages while generating", page_times))
        print(summary("status polls", status_times))
        print(
            f"delivered {len(finished_at)}/{args.statements}; last ready after {total:.1f} s "
            f"(first {min(finished_at.values()):.1f} s); "
            f"throughput {len(finished_at) / total * 60:.1f} statements/min"
        )
        print(f"worker peak RSS {peak_kib / 1024:.0f} MiB; errors: {errors or 'none'}")
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
