"""Load test: a realistic mix of buyers, gas customers and managers against gunicorn + PostgreSQL.

    make bench-load            # or: .venv/bin/python bench/load_test.py --duration 60 --users 30
    make bench-load-people     # 50 users for 5 minutes (buyers, gas customers, managers)
    make bench-load-short      # the bounded CI version (< 60 s): fails only on errors
    .venv/bin/python bench/load_test.py --template portal_people ...   # copy a prepared database

Creates a throwaway PostgreSQL database (PORTAL_BENCH_POSTGRES, default the local server),
migrates it, loads the demo data, starts gunicorn (4 workers, Redis for rate limits, cache
when PORTAL_REDIS_URL is set) and runs Locust headless. Each simulated
person signs in once, then works with think times (--think seconds, default 1-5). Prints
p50/p95/p99 per request type, for all requests and for the work after sign-in (argon2 makes
sign-in slow by design), throughput, the error count and the load average before and after,
then removes the database. With --fail-on-errors the exit status is 1 when any request
failed; nothing is asserted about time.
"""

import argparse
import csv
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-portal-2026"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="([^"]+)"')
ITEM_FORM = re.compile(r'name="item_id" value="(\d+)".*?name="quantity"[^>]*value="(\d+)"', re.S)

try:
    from locust import HttpUser, between, events, task
except ImportError:  # the orchestrating part below runs without locust imported
    events = None
    HttpUser = object

    def task(weight=1):
        return lambda f: f

    def between(a, b):
        return None


# The response times of the work after sign-in (not the sign-in form, its POST or the offer),
# written where the orchestrator reads them (exact percentiles, not Locust's per-type ones).
WORKING_TIMES: list[float] = []
SIGN_IN = {"/login", "/offer", "/privacy/consent"}

if events is not None:

    @events.request.add_listener
    def _record(request_type, name, response_time, exception=None, **_kwargs):
        if name not in SIGN_IN:
            WORKING_TIMES.append(response_time)

    @events.quitting.add_listener
    def _write(environment, **_kwargs):
        target = os.environ.get("BENCH_WORKING_TIMES")
        if target:
            Path(target).write_text("\n".join(f"{t:.1f}" for t in WORKING_TIMES))


THINK = tuple(float(x) for x in os.environ.get("BENCH_THINK_SECONDS", "1,5").split(","))


class PortalUser(HttpUser):
    abstract = True
    login = ""
    wait_time = between(*THINK)

    def on_start(self):
        page = self.client.get("/login").text
        self.client.post(
            "/login",
            data={
                "login": self.login,
                "password": PASSWORD,
                "csrf_token": TOKEN.search(page).group(1),
            },
        )
        offer = self.client.get("/offer", name="/offer")
        if 'name="accept"' in offer.text:
            self.client.post(
                "/offer", data={"accept": "y", "csrf_token": TOKEN.search(offer.text).group(1)}
            )
        consent = self.client.get("/privacy/consent", name="/privacy/consent")
        version = VERSION.search(consent.text)
        if version and 'name="accept"' in consent.text:
            self.client.post(
                "/privacy/consent",
                data={
                    "accept": "y",
                    "version": version.group(1),
                    "csrf_token": TOKEN.search(consent.text).group(1),
                },
            )

    def token(self, url):
        return TOKEN.search(self.client.get(url, name=url.split("?")[0]).text).group(1)


class Buyer(PortalUser):
    weight = 5
    login = "buyer"
    terms = [
        "нурофен",
        "парацетамол",
        "ибупрофен",
        "амоксициллин",
        "витамин",
        "нурафен",
        "4602193",
        "A0001",
        "омепразол",
        "сироп",
    ]

    @task(6)
    def search(self):
        self.client.get(f"/catalog/?q={random.choice(self.terms)}", name="/catalog/?q=")

    @task(2)
    def add_to_cart(self):
        page = self.client.get(f"/catalog/?q={random.choice(self.terms)}", name="/catalog/?q=").text
        items = ITEM_FORM.findall(page)  # (item id, its minimum quantity)
        if items:
            item_id, quantity = random.choice(items)
            self.client.post(
                "/cart/add",
                data={
                    "item_id": item_id,
                    "quantity": quantity,
                    "csrf_token": TOKEN.search(page).group(1),
                },
            )

    @task(2)
    def cart(self):
        self.client.get("/cart")

    @task(1)
    def orders(self):
        self.client.get("/orders")


class GasCustomer(PortalUser):
    weight = 3
    login = "gas"

    @task(3)
    def readings_form(self):
        self.client.get("/metering/readings")

    @task(2)
    def meters(self):
        page = self.client.get("/metering/meters").text
        meters = re.findall(r'href="(/metering/meters/\d+)"', page)
        if meters:
            self.client.get(random.choice(meters), name="/metering/meters/<id>")

    @task(1)
    def account(self):
        self.client.get("/metering/account")


class Manager(PortalUser):
    weight = 1
    login = "manager"

    @task(2)
    def applications(self):
        self.client.get("/backoffice/onboarding/applications")

    @task(2)
    def orders(self):
        self.client.get("/backoffice/orders")

    @task(1)
    def dashboard(self):
        self.client.get("/backoffice/")


# --- orchestration ---------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args, env):
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--users", type=int, default=30, help="concurrent simulated users")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--think", default="1,5", help="think time between actions: min,max s")
    parser.add_argument("--spawn-rate", type=float, default=0, help="users started per second")
    parser.add_argument("--fail-on-errors", action="store_true", help="exit 1 on any error")
    parser.add_argument(
        "--template",
        help="copy this database (migrated, demo data loaded) instead of migrating and seeding"
        " a new one: the run then starts in seconds",
    )
    options = parser.parse_args()
    load_before = os.getloadavg()

    from sqlalchemy import create_engine, text

    server = os.environ.get("PORTAL_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1/test")
    if server.startswith("postgresql://"):  # the driver the portal uses (psycopg 3)
        server = "postgresql+psycopg://" + server.removeprefix("postgresql://")
    name = f"portal_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        template = f' TEMPLATE "{options.template}"' if options.template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{template}'))
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    port = _free_port()
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "PORTAL_DATABASE_URL": server.rsplit("/", 1)[0] + "/" + name,
        "PORTAL_SECRET_KEY": uuid.uuid4().hex,
        "PORTAL_MAIL_OUTBOX": str(workdir / "outbox"),
        "PORTAL_RATELIMIT_LOGIN": "100000 per minute",
        "PORTAL_LOG_FORMAT": "json",
        "BENCH_THINK_SECONDS": options.think,
        "BENCH_WORKING_TIMES": str(workdir / "stats_working.txt"),
    }
    bin_dir = Path(sys.executable).parent
    gunicorn = None
    try:
        if not options.template:
            _run(sys.executable, "-m", "flask", "db", "upgrade", env=env)
            _run(sys.executable, "-m", "flask", "seed-demo", env=env)
        with open(workdir / "server.log", "w") as log:
            gunicorn = subprocess.Popen(
                [
                    bin_dir / "gunicorn",
                    "-w",
                    str(options.workers),
                    "-b",
                    f"127.0.0.1:{port}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.2)
            prefix = workdir / "stats"
            subprocess.run(
                [
                    bin_dir / "locust",
                    "-f",
                    __file__,
                    "--headless",
                    "-u",
                    str(options.users),
                    "-r",
                    str(options.spawn_rate or max(1, options.users // 5)),
                    "-t",
                    f"{options.duration}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                ],
                cwd=ROOT,
                env=env,
                check=False,
            )
        failures = report(prefix, options, load_before)
    finally:
        if gunicorn:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker stuck on a loaded machine
                gunicorn.kill()
                gunicorn.wait()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    if options.fail_on_errors and failures:
        sys.exit(f"{failures} requests failed")


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def report(prefix, options, load_before):
    with open(f"{prefix}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    print(
        f"\nLoad test: {options.users} users, {options.duration} s, "
        f"{options.workers} gunicorn workers, PostgreSQL\n"
    )
    print(f"{'request':40} {'count':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>7}")
    for row in rows:
        print(
            f"{row['Type'] + ' ' + row['Name']:40.40} {row['Request Count']:>7} "
            f"{row['Failure Count']:>5} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6} "
            f"{float(row['Requests/s']):>7.1f}"
        )
    total = rows[-1]
    print(
        f"\nerrors: {total['Failure Count']} of {total['Request Count']} requests; "
        f"throughput {float(total['Requests/s']):.1f} req/s (times in ms)"
    )
    times = [float(line) for line in Path(f"{prefix}_working.txt").read_text().split()]
    if times:
        print(
            f"after sign-in ({len(times)} requests): p50 {_percentile(times, 0.5):.0f}  "
            f"p95 {_percentile(times, 0.95):.0f}  p99 {_percentile(times, 0.99):.0f} ms"
        )
    after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}"
    )
    return int(total["Failure Count"])


if __name__ == "__main__":
    main()
