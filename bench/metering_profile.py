"""One submission of the readings form, in-process: SQL statements and a cProfile of the request.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/metering_bench \
        .venv/bin/python bench/metering_profile.py --submissions 200

Signs in a few customers of 1-5 meters (made by `metering_generate.py --big-customers 20`),
posts the readings form once per customer with every meter filled, prints the SQL statements
of one submission, the mean time per POST of half of them, then the top functions of cProfile
over the other half, and deletes this month's readings it made.
"""

import argparse
import cProfile
import gc
import pstats
import re
import time

from metering_load import CSRF, clean_up, load_customers
from sqlalchemy import event

from portal import create_app
from portal.clock import local_today
from portal.demo import DEMO_PASSWORD
from portal.extensions import db


def signed_in(app, login):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(
        "/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, "login failed"
    response = client.get("/metering/readings")
    for _ in range(2):  # the offer and the consent to processing, asked once after sign-in
        if response.status_code != 302:
            break
        path = response.headers["Location"]
        gate = client.get(path).get_data(as_text=True)
        form = {"csrf_token": CSRF.search(gate).group(1), "accept": "y"}
        version = re.search(r'name="version"[^>]*value="([^"]+)"', gate)
        if version:
            form["version"] = version.group(1)
        assert client.post(path, data=form).status_code == 302, f"{path} not accepted"
        response = client.get("/metering/readings")
    return client, CSRF.search(response.get_data(as_text=True)).group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--dump", help="write the cProfile statistics to this file")
    arguments = parser.parse_args()
    app = create_app({"RATELIMIT_ENABLED": False})
    gc.freeze()  # as wsgi.py does for gunicorn
    clean_up(app)
    customers = load_customers(app, arguments.submissions + 1)
    clients = [(signed_in(app, login), values) for login, values in customers]
    with app.app_context():
        reading_date = local_today().isoformat()

    statements = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def post(client, token, values):
        form = {"csrf_token": token, "reading_date": reading_date}
        form.update({f"value-{m}": v for m, v in values.items()})
        response = client.post("/metering/readings", data=form)
        assert response.status_code == 302, response.status_code

    # One submission with its SQL statements.
    (client, token), values = clients[0]
    event.listen(engine, "before_cursor_execute", count)
    post(client, token, values)
    event.remove(engine, "before_cursor_execute", count)
    print(f"SQL statements in one submission ({len(values)} meters): {len(statements)}")
    for statement in statements:
        print("  ", " ".join(statement.split())[:150])

    half = (len(clients) + 1) // 2
    plain, rest = clients[1:half], clients[half:]
    started = time.perf_counter()
    for (client, token), values in plain:
        post(client, token, values)
    wall = time.perf_counter() - started
    print(f"{len(plain)} submissions: {wall / max(1, len(plain)) * 1000:.1f} ms each (no profiler)")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for (client, token), values in rest:
        post(client, token, values)
    profiler.disable()
    wall = time.perf_counter() - started
    print(f"{len(rest)} submissions: {wall / max(1, len(rest)) * 1000:.1f} ms each (profiled)")
    if arguments.dump:
        profiler.dump_stats(arguments.dump)
    pstats.Stats(profiler).sort_stats(arguments.sort).print_stats(arguments.top)
    clean_up(app)


if __name__ == "__main__":
    main()
