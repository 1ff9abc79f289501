"""Submissions over HTTP: many customers posting the readings form to gunicorn at once.

    export PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/metering_bench
    PORTAL_RATELIMIT_LOGIN="100000 per minute" .venv/bin/gunicorn -w 4 -b 127.0.0.1:8470 wsgi:app &
    .venv/bin/python bench/metering_load.py --url http://127.0.0.1:8470 --clients 32 --processes 4

(`bench/metering_http.sh` does the same with gunicorn started and stopped around the run.)

Customers of 1-5 meters (made by `metering_generate.py --big-customers 20`) sign in and open
the readings form (not timed: that is the customer reading their meters), then all of them
post the form at once, every meter filled, with the CSRF token of their session, from
`--clients` connections spread over `--processes` client processes (one Python process's
threads share one GIL: with 32 threads in one process the client itself limited the rate).
Each POST is prepared as bytes before the clock starts and sent over a plain socket, so the
client spends little CPU per request; the CPU it did use is printed next to the figures
(client and server share the machine). Prints p50/p95/p99 per submission and submissions/s,
checks every submission was saved (302 and the rows in the database), then times the form of
the 200-meter customer `--form-login` and deletes this month's readings.
"""

import argparse
import http.client
import multiprocessing
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, func, select, text

from portal import create_app
from portal.accounts.models import User
from portal.clock import local_today, month_start
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.metering.models import MeteringPoint, Reading
from portal.metering.readings import latest_readings
from portal.organisations.models import Membership

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def percentiles(samples):
    ordered = sorted(samples)

    def at(share):
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50={at(0.5):.1f} ms p95={at(0.95):.1f} ms p99={at(0.99):.1f} ms (n={len(ordered)})"


class Browser:
    """One customer's cookies; requests go over the calling thread's keep-alive connection."""

    def __init__(self, host, port):
        self.host, self.port, self.cookies = host, port, {}
        self.local = threading.local()

    def connection(self):
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.local.connection

    def request(self, method, path, form=None, connection=None):
        connection = connection or self.connection()
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _sep, cookie = pair.partition("=")
                self.cookies[key] = cookie
        if response.will_close:
            connection.close()
        return response.status, response.getheader("Location") or "", content


def sign_in(browser, login):
    _status, _location, page = browser.request("GET", "/login")
    token = CSRF.search(page).group(1)
    form = {"login": login, "password": DEMO_PASSWORD, "csrf_token": token}
    status, _location, _page = browser.request("POST", "/login", form)
    assert status == 302, f"login of {login} failed: {status}"
    status, location, page = browser.request("GET", "/metering/readings")
    for _ in range(2):  # the offer and the consent to processing, asked once after sign-in
        if status != 302:
            break
        accept_gate(browser, urlsplit(location).path or location)
        status, location, page = browser.request("GET", "/metering/readings")
    assert status == 200, f"readings form of {login}: {status}"
    return CSRF.search(page).group(1)


def accept_gate(browser, path):
    """Accept the offer (/offer) or the consent (/privacy/consent) the portal sent us to."""
    _status, _location, page = browser.request("GET", path)
    form = {"csrf_token": CSRF.search(page).group(1), "accept": "y"}
    version = re.search(r'name="version"[^>]*value="([^"]+)"', page)
    if version:
        form["version"] = version.group(1)
    status, _location, _page = browser.request("POST", path, form)
    assert status == 302, f"{path} not accepted: {status}"


def load_customers(app, limit):
    """Small customers with their meters and a plausible next value for each."""
    with app.app_context():
        period = month_start(local_today())
        rows = db.session.execute(
            select(User.login, MeteringPoint.id)
            .join(Membership, Membership.user_id == User.id)
            .join(MeteringPoint, MeteringPoint.organisation_id == Membership.organisation_id)
            .where(User.login.like("bench-gas-%"), MeteringPoint.is_active.is_(True))
            .order_by(User.id, MeteringPoint.id)
        ).all()
        meters = {}
        for login, meter_id in rows:
            meters.setdefault(login, []).append(meter_id)
        small = {login: ids for login, ids in meters.items() if len(ids) <= 5}
        chosen = dict(list(small.items())[:limit])
        ids = [meter_id for ids in chosen.values() for meter_id in ids]
        latest = {}
        for start in range(0, len(ids), 5000):
            latest.update(latest_readings(ids[start : start + 5000]))
        customers = []
        for login, meter_ids in chosen.items():
            if any(latest[m].period >= period for m in meter_ids):
                continue  # already submitted this month (a previous run not cleaned up)
            values = {m: str(latest[m].value + 500) for m in meter_ids}
            customers.append((login, values))
        return customers


def clean_up(app):
    with app.app_context():
        period = month_start(local_today())
        bench = select(Membership.organisation_id).join(User).where(User.login.like("bench-gas-%"))
        db.session.execute(
            delete(Reading).where(Reading.period == period, Reading.organisation_id.in_(bench))
        )
        db.session.commit()


def saved_this_month(app):
    with app.app_context():
        period = month_start(local_today())
        return db.session.scalar(select(func.count(Reading.id)).where(Reading.period == period))


def raw_post(path, host, cookies, form):
    """The bytes of one form POST (HTTP/1.1, keep-alive), built before the clock starts."""
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class RawConnection:
    """Send prepared requests and read the responses: status, Location, keep-alive or not."""

    def __init__(self, host, port):
        self.address, self.sock, self.buffer = (host, port), None, b""

    def exchange(self, request):
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._receive()
        head, _sep, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += self._receive()
        self.buffer = rest[length:]
        if headers.get("connection", "").lower() == "close":  # gunicorn sync workers
            self.close()
        return status, headers.get("location", "")

    def _receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def client_process(index, arguments, customers, reading_date, ready, start, results):
    """One client process: sign its customers in, then post their forms from its connections."""
    parts = urlsplit(arguments.url)
    host = f"{parts.hostname}:{parts.port}"
    requests = []

    def prepare(customer):
        login, values = customer
        browser = Browser(parts.hostname, parts.port)
        token = sign_in(browser, login)
        form = {"csrf_token": token, "reading_date": reading_date}
        form.update({f"value-{meter_id}": value for meter_id, value in values.items()})
        return login, raw_post("/metering/readings", host, browser.cookies, form)

    with ThreadPoolExecutor(max(1, arguments.clients // arguments.processes)) as pool:
        requests = list(pool.map(prepare, customers))
    connections = max(1, arguments.clients // arguments.processes)
    shares = [requests[i::connections] for i in range(connections)]
    ready.wait()  # every process has signed its customers in
    for _round in range(arguments.rounds):
        samples, failures, lock = [], [], threading.Lock()

        def submit(share, samples=samples, failures=failures, lock=lock):
            connection = RawConnection(parts.hostname, parts.port)
            for login, request in share:
                begun = time.perf_counter()
                try:
                    status, location = connection.exchange(request)
                except OSError as error:
                    connection.close()
                    status, location = repr(error), ""
                elapsed = time.perf_counter() - begun
                with lock:
                    samples.append(elapsed)
                    if status != 302 or not location.endswith("/metering/readings"):
                        failures.append((login, status))
            connection.close()

        threads = [threading.Thread(target=submit, args=(share,)) for share in shares if share]
        start.wait()  # the parent has removed the previous round's readings
        began, cpu_began = time.time(), os.times()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ended, cpu = time.time(), os.times()
        used = cpu.user + cpu.system - cpu_began.user - cpu_began.system
        results.put((index, samples, failures, began, ended, used))


def process_cpu(pids):
    """CPU seconds (user + system) used so far by each of the processes, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def server_processes(app, server_pid):
    """gunicorn's workers (children of `server_pid`) and the PostgreSQL backends of the database."""
    workers = []
    if server_pid:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
                if parent == server_pid:
                    workers.append(int(entry))
    with app.app_context():
        backends = db.session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        db.session.rollback()
        db.engine.dispose()
    return workers, backends


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8470")
    parser.add_argument("--clients", type=int, default=32, help="connections in all")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--form-login", default="bench-gas-3")
    parser.add_argument("--form-repeat", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=1, help="everyone submits this often")
    parser.add_argument("--server-pid", type=int, default=0, help="gunicorn master: CPU used")
    arguments = parser.parse_args()
    parts = urlsplit(arguments.url)
    app = create_app()
    clean_up(app)
    customers = load_customers(app, arguments.customers)
    meters = sum(len(values) for _login, values in customers)
    print(
        f"{len(customers)} customers, {meters} meters; {arguments.clients} connections "
        f"in {arguments.processes} client processes; load average {os.getloadavg()[0]:.2f}"
    )
    with app.app_context():
        reading_date = local_today().isoformat()
        db.engine.dispose()  # the client processes are forked: no shared connections

    context = multiprocessing.get_context("fork")
    ready = context.Barrier(arguments.processes + 1)
    start = context.Barrier(arguments.processes + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=client_process,
            args=(
                i,
                arguments,
                customers[i :: arguments.processes],
                reading_date,
                ready,
                start,
                results,
            ),
        )
        for i in range(arguments.processes)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    ready.wait()
    print(f"signed in and opened the form: {time.perf_counter() - started:.1f} s")
    load_at_start = os.getloadavg()[0]
    workers, backends = server_processes(app, arguments.server_pid)
    samples, failures, wall, client_cpu, saved = [], [], 0.0, 0.0, 0
    app_cpu = database_cpu = 0.0
    for round_number in range(arguments.rounds):
        if round_number:
            clean_up(app)  # the same customers submit again: this month's readings go first
        before = saved_this_month(app)
        cpu_before = process_cpu(workers + backends)
        start.wait()
        outcomes = [results.get() for _process in processes]
        cpu_after = process_cpu(workers + backends)
        samples += [sample for outcome in outcomes for sample in outcome[1]]
        failures += [failure for outcome in outcomes for failure in outcome[2]]
        wall += max(outcome[4] for outcome in outcomes) - min(outcome[3] for outcome in outcomes)
        client_cpu += sum(outcome[5] for outcome in outcomes)
        saved += saved_this_month(app) - before
        app_cpu += sum(cpu_after.get(p, 0) - cpu_before.get(p, 0) for p in workers)
        database_cpu += sum(cpu_after.get(p, 0) - cpu_before.get(p, 0) for p in backends)
    for process in processes:
        process.join()
    print(
        f"submission ({arguments.clients} connections, {arguments.processes} processes, "
        f"{arguments.rounds} round(s), load average {load_at_start:.2f} at start)",
        percentiles(samples),
    )
    print(
        f"throughput: {len(samples) / wall:.0f} submissions/s ({len(samples)} in {wall:.1f} s), "
        f"{saved} readings saved of {meters * arguments.rounds}, {len(failures)} failed "
        f"{failures[:3]}"
    )
    if workers:
        print(
            f"server CPU per submission: gunicorn workers {app_cpu / len(samples) * 1000:.1f} ms "
            f"+ PostgreSQL {database_cpu / len(samples) * 1000:.1f} ms "
            f"({len(workers)} workers, {len(backends)} backends; "
            f"{(app_cpu + database_cpu) / wall * 100:.0f} % of one core during the run)"
        )
    print(
        f"client processes' CPU while submitting: {client_cpu:.2f} s in {wall:.1f} s "
        f"= {client_cpu / wall * 100:.0f} % of one core"
    )

    browser = Browser(parts.hostname, parts.port)
    sign_in(browser, arguments.form_login)
    form_samples = []
    for _ in range(arguments.form_repeat):
        begun = time.perf_counter()
        status, _location, page = browser.request("GET", "/metering/readings")
        form_samples.append(time.perf_counter() - begun)
        assert status == 200
    fields = page.count('name="value-')
    print(f"readings form, {fields} meters, over HTTP", percentiles(form_samples))
    clean_up(app)


if __name__ == "__main__":
    main()
