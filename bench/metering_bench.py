"""Metering benchmarks: readings form render, submissions per second, history pages.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/metering_bench \
        .venv/bin/python bench/metering_bench.py --login bench-gas-3 --threads 4 --submissions 2000

Runs the app in-process (Flask test client, no network, no rendering of static files) and
prints p50/p95/p99 latencies, throughput and peak memory. Submissions are one reading for one
meter per POST (the customer's form with one field filled), spread over every customer of
the generator; the readings made for the current month are deleted afterwards.
"""

import argparse
import gc
import re
import resource
import threading
import time

from sqlalchemy import delete, select

from portal import create_app
from portal.accounts.models import User
from portal.clock import local_today, month_start
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.metering.models import MeteringPoint, Reading
from portal.metering.readings import latest_readings

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def percentiles(samples):
    ordered = sorted(samples)

    def at(share):
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50={at(0.5):.1f} ms p95={at(0.95):.1f} ms p99={at(0.99):.1f} ms (n={len(ordered)})"


def signed_in(app, login):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(
        "/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, "login failed"
    # Signing in starts a new session: take the token of the new one.
    page = client.get("/__no_such_page__").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    if client.get("/metering/readings").headers.get("Location", "").startswith("/offer"):
        # A freshly seeded database (the small one): accept the offer as the customer would.
        response = client.post("/offer", data={"accept": "y", "csrf_token": token})
        assert response.status_code == 302, "offer acceptance failed"
    return client, token


def timed_get(client, url, repeat):
    client.get(url)  # warm-up: templates compiled, connection pooled
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def bench_pages(app, login, repeat):
    client, _token = signed_in(app, login)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        organisation_id = user.memberships[0].organisation_id
        meter = db.session.scalar(
            select(MeteringPoint).where(MeteringPoint.organisation_id == organisation_id).limit(1)
        )
        meters = db.session.scalar(
            select(db.func.count(MeteringPoint.id)).where(
                MeteringPoint.organisation_id == organisation_id
            )
        )
        readings = db.session.scalar(select(db.func.count(Reading.id)))
        meter_id, contract_id = meter.id, meter.contract_id
    print(f"database: {readings} readings; customer {login} has {meters} meters")
    print("readings form     ", percentiles(timed_get(client, "/metering/readings", repeat)))
    print(
        "meter history     ", percentiles(timed_get(client, f"/metering/meters/{meter_id}", repeat))
    )
    print(
        "contract history  ",
        percentiles(timed_get(client, f"/metering/contracts/{contract_id}", repeat)),
    )
    print("settlement account", percentiles(timed_get(client, "/metering/account", repeat)))


def bench_submissions(app, threads, total):
    with app.app_context():
        today = local_today()
        period = month_start(today)
        rows = db.session.execute(
            select(User.login, MeteringPoint.id)
            .join(User.memberships)
            .join(
                MeteringPoint,
                MeteringPoint.organisation_id == db.literal_column("memberships.organisation_id"),
            )
            .where(User.login.like("bench-gas-%"))
            .order_by(MeteringPoint.id)
        ).all()
        previous = latest_readings([meter_id for _login, meter_id in rows])
        work = [
            (login, meter_id, str(previous[meter_id].value + 500))
            for login, meter_id in rows
            if meter_id in previous and previous[meter_id].period < period
        ]
        # Interleave customers, as in the real window: everyone submits a few meters at once.
        work.sort(key=lambda item: (item[1] % 200, item[0]))
        work = work[:total]
    logins = sorted({login for login, _m, _v in work})
    shares = [work[i::threads] for i in range(threads)]
    samples, errors, lock = [], [], threading.Lock()
    reading_date = today.isoformat()

    # Sign everybody in before the clock starts: the figure is about submissions. Once per
    # customer and thread: a dict comprehension over the work items signed a customer in
    # again (argon2, a new session) for each of their meters.
    sessions = [
        {login: signed_in(app, login) for login in {lg for lg, _m, _v in share}} for share in shares
    ]

    def worker(share, clients):
        for login, meter_id, value in share:
            client, token = clients[login]
            started = time.perf_counter()
            response = client.post(
                "/metering/readings",
                data={
                    "csrf_token": token,
                    "reading_date": reading_date,
                    f"value-{meter_id}": value,
                },
            )
            elapsed = time.perf_counter() - started
            with lock:
                samples.append(elapsed)
                if response.status_code != 302:
                    errors.append(response.status_code)

    started = time.perf_counter()
    pool = [
        threading.Thread(target=worker, args=pair) for pair in zip(shares, sessions, strict=True)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    print(
        f"submissions: {len(samples)} by {len(logins)} customers, {threads} threads, "
        f"{len(samples) / wall:.0f}/s "
        f"refused={len(errors)}; latency {percentiles(samples)}"
    )
    with app.app_context():
        db.session.execute(
            delete(Reading).where(
                Reading.period == period,
                Reading.metering_point_id.in_([meter_id for _l, meter_id, _v in work]),
            )
        )
        db.session.commit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--login", default="bench-gas-3")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--submissions", type=int, default=0)
    arguments = parser.parse_args()
    application = create_app({"RATELIMIT_ENABLED": False})
    gc.freeze()  # as wsgi.py does for gunicorn
    bench_pages(application, arguments.login, arguments.repeat)
    if arguments.submissions:
        bench_submissions(application, arguments.threads, arguments.submissions)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")
