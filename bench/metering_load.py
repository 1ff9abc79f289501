"""Submissions over HTTP: many customers posting the readings form to gunicorn at once.

    export PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/metering_bench
    PORTAL_RATELIMIT_LOGIN="100000 per minute" .venv/bin/gunicorn -w 4 -b 127.0.0.1:8470 wsgi:app &
    .venv/bin/python bench/metering_load.py --url http://127.0.0.1:8470 --clients 32

Customers of 1-5 meters (made by `metering_generate.py --big-customers 20`) sign in and open
the readings form (not timed: that is the customer reading their meters), then all of them
post the form at once, every meter filled, with the CSRF token of their session, over
keep-alive connections from `--clients` threads. Prints p50/p95/p99 per submission and
submissions/s, checks every submission was saved (302 and the rows in the database), then
times the form of the 200-meter customer `--form-login` and deletes this month's readings.
"""

import argparse
import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, func, select

from portal import create_app
from portal.accounts.models import User
from portal.cli import DEMO_PASSWORD
from portal.extensions import db
from portal.metering.models import MeteringPoint, Reading
from portal.metering.services import latest_readings, local_today, month_start
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
    status, _location, page = browser.request("GET", "/metering/readings")
    assert status == 200, f"readings form of {login}: {status}"
    return CSRF.search(page).group(1)


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8470")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--form-login", default="bench-gas-3")
    parser.add_argument("--form-repeat", type=int, default=60)
    arguments = parser.parse_args()
    parts = urlsplit(arguments.url)
    app = create_app()
    clean_up(app)
    customers = load_customers(app, arguments.customers)
    meters = sum(len(values) for _login, values in customers)
    print(f"{len(customers)} customers, {meters} meters")

    started = time.perf_counter()
    browsers = {}

    def prepare(customer):
        login, values = customer
        browser = Browser(parts.hostname, parts.port)
        token = sign_in(browser, login)
        browsers[login] = (browser, token)

    with ThreadPoolExecutor(arguments.clients) as pool:
        list(pool.map(prepare, customers))
    print(f"signed in and opened the form: {time.perf_counter() - started:.1f} s")

    before = saved_this_month(app)
    with app.app_context():
        reading_date = local_today().isoformat()
    samples, failures, lock = [], [], threading.Lock()
    shares = [customers[i :: arguments.clients] for i in range(arguments.clients)]

    def submit(share):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        for login, values in share:
            browser, token = browsers[login]
            form = {"csrf_token": token, "reading_date": reading_date}
            form.update({f"value-{meter_id}": value for meter_id, value in values.items()})
            begun = time.perf_counter()
            status, location, _page = browser.request(
                "POST", "/metering/readings", form, connection=connection
            )
            elapsed = time.perf_counter() - begun
            with lock:
                samples.append(elapsed)
                if status != 302 or not location.endswith("/metering/readings"):
                    failures.append((login, status))

    started = time.perf_counter()
    threads = [threading.Thread(target=submit, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    saved = saved_this_month(app) - before
    print(f"submission ({arguments.clients} clients)", percentiles(samples))
    print(
        f"throughput: {len(samples) / wall:.0f} submissions/s ({len(samples)} in {wall:.1f} s), "
        f"{saved} readings saved of {meters}, {len(failures)} failed {failures[:3]}"
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
