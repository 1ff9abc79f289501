"""The checkout flow in-process: SQL statements, Python calls and a cProfile per request kind.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/checkout_profile.py [--orders 60] [--top 30]

Uses the buyers and the 50 contended items `bench/catalog_checkout.py` prepares (run it, or
its `prepare`, once before). One buyer, no contention: per attempt it puts 3 items in the cart
(POST /cart/add), opens /checkout and submits it; the stock of the items is put back after
each order so that every attempt is placed. Prints, per kind of request, the statements and
round trips, the Python function calls (cProfile's count) and the CPU time, then the SQL of
one checkout POST and the top functions of the profile of every checkout POST. Load-
independent figures (statements, calls) are what to compare on a busy machine.
"""

import argparse
import cProfile
import gc
import io
import logging
import pstats
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_checkout import PASSWORD, prepare  # noqa: E402
from catalog_common import CSRF_RE, database_url  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

IDEMPOTENCY = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')
ADDRESS = re.compile(r'<option[^>]*value="(\d+)"')


def token_of(page: str) -> str:
    match = CSRF_RE.search(page)
    return match.group(1) or match.group(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--login", default="bench.checkout1")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one request")
    parser.add_argument(
        "--kind", default="POST /checkout", help="the request profiled and shown with --sql"
    )
    arguments = parser.parse_args()
    database_url()
    _logins, initial, warehouse_id = prepare(1, 50, 100000)
    app = create_app({"RATELIMIT_ENABLED": False})
    logging.getLogger("portal").setLevel(logging.WARNING)
    gc.freeze()  # as wsgi.py does for gunicorn
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    held = {"since": None, "ms": [], "statements": []}  # the stock rows' lock: FOR UPDATE..COMMIT

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)
        if held["since"] is None and "FOR UPDATE" in statement and "catalog_stock" in statement:
            held["since"], held["from"] = time.perf_counter(), len(statements)

    @event.listens_for(engine, "commit")
    def committed(_conn):
        if held["since"] is not None:
            held["ms"].append((time.perf_counter() - held["since"]) * 1000)
            held["statements"].append(len(statements) - held["from"] + 1)  # + the COMMIT
            held["since"] = None

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    credentials = {"login": arguments.login, "password": PASSWORD, "csrf_token": token_of(page)}
    response = client.post("/login", data=credentials)
    assert response.status_code == 302, response.status_code
    for path in ("/offer", "/privacy/consent"):
        assert client.get(path).status_code in (200, 302)
    token = token_of(client.get("/cart").get_data(as_text=True))
    items = sorted(initial)
    generator = random.Random(7)
    figures = defaultdict(lambda: {"n": 0, "statements": 0, "calls": 0, "cpu": 0.0})
    checkout_stats: list[pstats.Stats] = []
    one_checkout_sql: list[str] = []

    def measured(kind, call):
        before = len(statements)
        own = cProfile.Profile()
        began = time.process_time()
        own.enable()
        response = call()
        own.disable()
        cpu = time.process_time() - began
        stats = pstats.Stats(own)
        figure = figures[kind]
        figure["n"] += 1
        figure["statements"] += len(statements) - before
        figure["calls"] += stats.total_calls
        figure["cpu"] += cpu
        if kind == arguments.kind and figure["n"] > 3:  # the first few warm the caches
            checkout_stats.append(stats)
            one_checkout_sql[:] = statements[before:]
        return response, statements[before:]

    for _number in range(arguments.orders):
        for item_id in generator.sample(items, 3):
            data = {"csrf_token": token, "item_id": item_id, "quantity": generator.randint(1, 3)}
            response, _ = measured(
                "POST /cart/add", lambda d=data: client.post("/cart/add", data=d)
            )
            assert response.status_code == 302, response.status_code
        response, _ = measured("GET /checkout", lambda: client.get("/checkout"))
        page = response.get_data(as_text=True)
        fields = {
            "csrf_token": token_of(page),
            "address_id": ADDRESS.search(page).group(1),
            "payment_terms": "prepayment",
            "comment": "",
            "idempotency_key": IDEMPOTENCY.search(page).group(1),
        }
        response, _ = measured("POST /checkout", lambda f=fields: client.post("/checkout", data=f))
        assert response.status_code == 302, (response.status_code, response.get_data()[:2000])
        with app.app_context():  # put the stock back so that every attempt is placed
            db.session.execute(
                text("UPDATE catalog_stock SET quantity = 100000 WHERE warehouse_id = :w"),
                {"w": warehouse_id},
            )
            db.session.commit()

    print(f"{arguments.orders} checkouts by one buyer (3 cart lines each), in process:")
    print(f"{'request':<16} {'statements':>10} {'py calls':>10} {'CPU ms':>8}")
    for kind, figure in figures.items():
        n = figure["n"]
        print(
            f"{kind:<16} {figure['statements'] / n:>10.1f} {figure['calls'] / n:>10.0f} "
            f"{figure['cpu'] / n * 1000:>8.2f}"
        )
    if held["ms"]:
        ms = sorted(held["ms"])
        print(
            f"stock rows locked per checkout: {sum(held['statements']) / len(ms):.1f} statements "
            f"(FOR UPDATE to COMMIT), median {ms[len(ms) // 2]:.2f} ms (in process, no contention)"
        )
    if arguments.sql:
        print(f"\nSQL of one {arguments.kind}:")
        for statement in one_checkout_sql:
            print("  " + " ".join(statement.split())[:220])
    out = io.StringIO()
    total = checkout_stats[0]
    total.stream = out
    total.add(*checkout_stats[1:])
    total.sort_stats(arguments.sort).print_stats(arguments.top)
    print(f"\nProfile of {arguments.kind}:")
    print(out.getvalue())


if __name__ == "__main__":
    main()
