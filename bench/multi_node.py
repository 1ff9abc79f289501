"""Per-request costs of the main pages and jobs, and the two-node setup's throughput at the
peak mix of docs/SCALING.md, scaled to this machine.

    .venv/bin/python bench/multi_node.py [--duration 30] [--users 6] [--imports 4]

1. Costs, in this process (Flask's test client on the bench database, no network): for each
   page its CPU ms, SQL queries and response bytes (median of --repeat requests); for the jobs
   (a year's reconciliation statement, a password-reset e-mail) CPU ms and queries.
2. Throughput: the multi-node layout of docs/OPERATIONS.md (tests/scale/cluster.py: HAProxy,
   two gunicorn nodes of one worker with two threads, two queue workers, PgBouncer in
   transaction pooling, Redis db 5, an S3 endpoint) on the same database; --users threads
   each sign in as a pharmacy or gas customer and walk the mix for --duration seconds.
   Reported: requests/s in all and per node (HAProxy's own counters), CPU ms per request of
   each node, p50/p95 latency, errors.
3. Jobs: --imports catalogue imports (--import-rows rows each) posted on node A as queue jobs,
   done by either worker, followed on node B until done: jobs per minute, post-to-done time.

The database is `portal_bench_scale_nodes` on the local PostgreSQL (created, migrated and
filled with the demo data on the first run). Figures go into docs/SCALING.md.
"""

import argparse
import collections
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("PORTAL_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "portal_bench_scale_nodes"
PASSWORD = "demo-portal-2026"  # noqa: S105 - the published demo password

# The peak-hour mix (docs/SCALING.md, "Peak mix"): page, weight, who asks.
MIX = [
    ("/catalog/?q=%D0%BD%D1%83%D1%80%D0%BE%D1%84%D0%B5%D0%BD", 30, "buyer"),  # search
    ("/catalog/", 15, "buyer"),
    ("/", 15, "buyer"),
    ("/orders", 10, "buyer"),
    ("/cart", 5, "buyer"),
    ("/documents/", 5, "buyer"),
    ("/metering/readings", 12, "gas"),
    ("/", 4, "gas"),
    ("/settlements/", 4, "gas"),
]


def database_url() -> str:
    return f"{SERVER}/{DATABASE}"


def prepare_database():
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DATABASE}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url(), "FLASK_APP": "wsgi.py"}
    env["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-instance-")
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([flask, "seed-demo", "--if-empty"], cwd=ROOT, env=env, check=True)
    accept_terms()


def accept_terms():
    """The demo customers accept the offer and the consent once, as at a first sign-in."""
    import re

    from portal import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(),
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    for who in ("buyer", "gas"):
        client = app.test_client()
        client.post("/login", data={"login": who, "password": PASSWORD})
        client.post("/offer", data={"accept": "y"})
        page = client.get("/privacy/consent").get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="([^"]*)"', page)
        if version:
            client.post("/privacy/consent", data={"version": version.group(1), "accept": "y"})
        assert client.get("/").status_code == 200, who


# --- 1. costs in-process ---------------------------------------------------------------------


def measure_costs(repeat: int) -> dict:
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(),
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_OUTBOX": tempfile.mkdtemp(prefix="bench-outbox-"),
            "REPORT_DIR": tempfile.mkdtemp(prefix="bench-reports-"),
        }
    )
    queries = [0]
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *a, **k: queries.__setitem__(0, queries[0] + 1),
        )

    def cost(run):
        cpu, counts, sizes = [], [], []
        for _ in range(repeat):
            queries[0] = 0
            start = time.process_time()
            size = run()
            cpu.append((time.process_time() - start) * 1000)
            counts.append(queries[0])
            sizes.append(size)
        return {
            "cpu_ms": round(statistics.median(cpu), 1),
            "queries": int(statistics.median(counts)),
            "bytes": int(statistics.median(sizes)),
        }

    results = {}
    clients = {}
    for who in ("buyer", "gas"):
        client = app.test_client()
        answer = client.post("/login", data={"login": who, "password": PASSWORD})
        assert answer.status_code == 302, (who, answer.status_code)
        clients[who] = client
    anonymous = app.test_client()
    results["GET /login (anonymous)"] = cost(lambda: len(anonymous.get("/login").data))

    for path, _weight, who in MIX:
        label = f"GET {path.split('?')[0]}{'?q=…' if '?' in path else ''} ({who})"
        if label in results:
            continue

        def page(path=path, who=who):
            answer = clients[who].get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            return len(answer.data)

        page()  # warm: first-use caches
        results[label] = cost(page)

    def sign_in():
        client = app.test_client()
        return len(client.post("/login", data={"login": "buyer", "password": PASSWORD}).data)

    # Last: a sign-in starts a new session of the account (the others may be asked again).
    results["POST /login (sign-in)"] = cost(sign_in)
    with app.test_request_context():  # as the worker renders: with a request context
        from sqlalchemy import select

        from portal.billing import rendering
        from portal.billing.statements import build_statement
        from portal.organisations.models import Organisation

        organisation = db.session.scalar(
            select(Organisation).where(Organisation.kind != "supplier").order_by(Organisation.id)
        )

        def statement():
            data = build_statement(
                organisation.id, date(date.today().year, 1, 1), date.today(), None
            )
            return len(rendering.statement_pdf(data)) + len(rendering.statement_xlsx(data))

        statement()
        results["job: statement (PDF + XLSX, a year)"] = cost(statement)

    def mail():
        with app.test_request_context():
            from portal.accounts import services

            services.request_password_reset("buyer")
            db.session.commit()
        return 0

    results["job: password e-mail (render + outbox)"] = cost(mail)
    return results


# --- 2. two nodes ----------------------------------------------------------------------------


def haproxy_counts(socket_path: Path) -> dict:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(socket_path))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    counts = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "nodes" and row.get("svname") not in ("BACKEND", None):
            counts[row["svname"]] = int(row.get("hrsp_2xx") or 0) + int(row.get("hrsp_3xx") or 0)
    return counts


def cpu_seconds(pid: int) -> float:
    """CPU of a gunicorn node: its master and its workers."""
    pids = [pid] + [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def catalogue_file(index: int, rows: int) -> bytes:
    lines = ["sku;trade_name;manufacturer;vat;rx;price"]
    lines += [
        f"BENCH-{index}-{row};Бенч {index}-{row};Озон;10;нет;{10 + row}" for row in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def drive_imports(cluster, count: int, rows: int) -> dict:
    """`count` catalogue imports posted on node A, done by the two workers (the imports kind's
    limit: one at a time across them), each followed on node B until done."""
    import json

    from tests.outage_server import Browser
    from tests.scale.test_multi_node import on_node, post_file

    staff = Browser(cluster.node_urls["a"])
    assert staff.sign_in("admin", PASSWORD).status == 302
    on_b = on_node(cluster, "b", staff)
    started = time.monotonic()
    posted = []
    for index in range(count):
        answer = post_file(
            staff,
            "/backoffice/catalog/import",
            {},
            "file",
            f"bench-{index}.csv",
            catalogue_file(index, rows),
            "text/csv",
        )
        assert answer.status == 302 and "/backoffice/jobs/" in answer.location, answer
        posted.append((int(answer.location.rstrip("/").rsplit("/", 1)[-1]), time.monotonic()))
    waits = []
    for job_id, at in posted:
        while True:
            status = json.loads(on_b.get(f"/backoffice/jobs/{job_id}/status").text)["status"]
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
        assert status == "done", (job_id, status)
        waits.append(time.monotonic() - at)
    elapsed = time.monotonic() - started
    return {
        "jobs": count,
        "rows": rows,
        "seconds": round(elapsed, 1),
        "per_minute": round(count * 60 / elapsed, 1),
        "median_wait_ms": round(statistics.median(waits) * 1000),
    }


def drive(duration: float, users: int, imports: int = 0, rows: int = 200) -> dict:
    from tests.outage_server import Browser
    from tests.scale.cluster import start

    workdir = Path(tempfile.mkdtemp(prefix="bench-multi-node-"))
    cluster = start(workdir, database_url())
    try:
        weights = [weight for _p, weight, _w in MIX]
        latencies, errors = [], []
        stop = time.monotonic() + duration
        lock = threading.Lock()

        def user(index):
            who = "buyer" if index % 4 != 3 else "gas"  # 3 pharmacy sessions to 1 gas
            browser = Browser(cluster.balancer_url)
            assert browser.sign_in(who, PASSWORD).status == 302
            rng = random.Random(index)
            while time.monotonic() < stop:
                path, _weight, page_user = rng.choices(MIX, weights=weights)[0]
                if page_user != who:
                    continue
                started = time.monotonic()
                answer = browser.get(path)
                elapsed = time.monotonic() - started
                with lock:
                    latencies.append(elapsed)
                    if answer.status != 200:
                        errors.append((path, answer.status))

        before_counts = haproxy_counts(workdir / "haproxy.sock")
        before_cpu = {n: cpu_seconds(cluster.processes[n].popen.pid) for n in ("a", "b")}
        started = time.monotonic()
        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        after_counts = haproxy_counts(workdir / "haproxy.sock")
        after_cpu = {n: cpu_seconds(cluster.processes[n].popen.pid) for n in ("a", "b")}
        per_node = {}
        for name in ("a", "b"):
            served = after_counts.get(name, 0) - before_counts.get(name, 0)
            cpu = after_cpu[name] - before_cpu[name]
            per_node[name] = {
                "requests": served,
                "per_second": round(served / elapsed, 1),
                "cpu_ms_per_request": round(cpu * 1000 / served, 1) if served else None,
            }
        latencies.sort()
        jobs = drive_imports(cluster, imports, rows) if imports else None
        return {
            "imports": jobs,
            "seconds": round(elapsed, 1),
            "users": users,
            "requests": len(latencies),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000),
            "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000),
            "errors": len(errors),
            "error_kinds": collections.Counter(errors).most_common(5),
            "nodes": per_node,
        }
    finally:
        cluster.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-costs", action="store_true")
    parser.add_argument("--imports", type=int, default=4, help="catalogue import jobs (0: none)")
    parser.add_argument("--import-rows", type=int, default=200)
    args = parser.parse_args()
    prepare_database()
    if not args.skip_costs:
        print("== per-request costs (in-process, median) ==")
        print(f"{'page or job':48} {'CPU ms':>8} {'queries':>8} {'bytes':>9}")
        for label, figures in measure_costs(args.repeat).items():
            print(
                f"{label:48} {figures['cpu_ms']:>8} {figures['queries']:>8} {figures['bytes']:>9}"
            )
    print(f"== two nodes behind HAProxy, {args.users} users, {args.duration:.0f} s ==")
    print(f"  load average (1 min) at the start: {os.getloadavg()[0]:.2f}")
    result = drive(args.duration, args.users, args.imports, args.import_rows)
    print(
        f"{result['requests']} requests in {result['seconds']} s: {result['per_second']}/s, "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, errors {result['errors']}"
    )
    if result["errors"]:
        print("  errors:", result["error_kinds"])
    for name, figures in result["nodes"].items():
        print(
            f"  node {name}: {figures['requests']} requests, {figures['per_second']}/s, "
            f"{figures['cpu_ms_per_request']} CPU ms per request"
        )
    if result["imports"]:
        jobs = result["imports"]
        print(
            f"  imports: {jobs['jobs']} jobs of {jobs['rows']} rows posted on A, followed on B: "
            f"{jobs['seconds']} s, {jobs['per_minute']} per minute, "
            f"median {jobs['median_wait_ms']} ms from post to done"
        )
    print(f"  load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
