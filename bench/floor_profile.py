"""What a signed-in page costs, counted in process: statements, round trips, Python calls.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/perf \
        .venv/bin/python bench/floor_profile.py [--pages 300] [--searches 300] [--profile 25]

Counts that do not depend on how busy the machine is, for the signed-in floor
(`/bench-floor/` of bench/floor_wsgi.py) and for distinct searches of bench/search_mix.py's
mix (the answer cache never answers them): per request, the SQL statements, the database
round trips (statements + BEGIN + COMMIT/ROLLBACK + pings), the Redis commands (when
PORTAL_REDIS_URL is set), the Python function calls (cProfile) and the CPU time (this one
does depend on the load). `--profile N` prints the N functions with the most own time.
"""

import argparse
import cProfile
import logging
import os
import pstats
import re
import secrets
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_common import DEMO_PASSWORD  # noqa: E402

CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


class Counter:
    def __init__(self):
        self.statements = self.begins = self.ends = self.redis = 0

    def reset(self):
        self.statements = self.begins = self.ends = self.redis = 0

    @property
    def round_trips(self):
        return self.statements + self.begins + self.ends


def install_counters(engine, counter: Counter):
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_args, **_kwargs):
        counter.statements += 1

    @event.listens_for(engine, "begin")
    def _begin(_conn):
        # psycopg sends BEGIN before the first statement of a transaction (SQLite: no trip,
        # counted anyway: the figures are for PostgreSQL).
        counter.begins += 1

    @event.listens_for(engine, "commit")
    def _commit(_conn):
        counter.ends += 1

    @event.listens_for(engine, "rollback")
    def _rollback(_conn):
        counter.ends += 1

    try:
        import redis.connection
    except ImportError:
        return
    original = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        counter.redis += 1
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = send_packed_command


def sign_in(client, login):
    page = client.get("/login").data
    token = CSRF_RE.search(page).group(1).decode()
    answer = client.post(
        "/login", data={"csrf_token": token, "login": login, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 302, answer.status_code
    for path in ("/offer", "/privacy/consent"):
        answer = client.get(path)
        if answer.status_code == 200:
            token = CSRF_RE.search(answer.data).group(1).decode()
            fields = {"csrf_token": token, "accept": "y"}
            version = re.search(rb'name="version"[^>]*value="([^"]+)"', answer.data)
            if version:
                fields["version"] = version.group(1).decode()
            assert client.post(path, data=fields).status_code == 302


def measure(client, counter, paths, profile_top):
    for path in paths[:5]:  # warm: templates compiled, statements built, pool filled
        client.get(path)
    paths = paths[5:]
    counter.reset()
    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.enable()
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    profiler.disable()
    cpu = time.process_time() - cpu
    stats = pstats.Stats(profiler)
    n = len(paths)
    print(
        f"  per request: {counter.statements / n:.2f} statements, "
        f"{counter.round_trips / n:.2f} database round trips "
        f"({counter.begins / n:.2f} BEGIN, {counter.ends / n:.2f} COMMIT/ROLLBACK), "
        f"{counter.redis / n:.2f} Redis commands"
    )
    print(
        f"  per request: {stats.total_calls / n:,.0f} Python function calls, "
        f"CPU {1000 * cpu / n:.2f} ms (profiled; load {os.getloadavg()[0]:.2f})"
    )
    if profile_top:
        stats.sort_stats("tottime").print_stats(profile_top)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--login", default="buyer")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args()
    # A fresh cache namespace: entries of an earlier run (Redis) must not answer.
    os.environ["PORTAL_CACHE_KEY_PREFIX"] = f"bench-{secrets.token_hex(4)}:"
    logging.getLogger("portal.access").disabled = True

    from floor_wsgi import app
    from search_mix import realistic_mix

    from portal.extensions import db

    counter = Counter()
    with app.app_context():
        install_counters(db.engine, counter)
    client = app.test_client()
    sign_in(client, args.login)
    print(f"as {args.login}, {'Redis' if os.environ.get('PORTAL_REDIS_URL') else 'no Redis'}")
    if args.pages:
        print(f"/bench-floor/ x{args.pages}:")
        measure(client, counter, ["/bench-floor/"] * (args.pages + 5), args.profile)
    if args.searches:
        mix = realistic_mix(args.searches + 5, args.seed + 7)
        paths = ["/catalog/?" + urllib.parse.urlencode(a) for _k, a in mix]
        print(f"/catalog/ x{len(paths) - 5} distinct searches (answer cache cold):")
        measure(client, counter, paths, args.profile)


if __name__ == "__main__":
    main()
