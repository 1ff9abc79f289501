"""The signed-in floor: a signed-in page with no work of its own against a bare Flask endpoint.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/perf \
        .venv/bin/python bench/floor.py [--clients 4] [--seconds 30] [--rounds 6] [--workers 2]

Two gunicorns with the same options (`-w N`, sync workers, the same access log format) run
side by side: the portal with one extra signed-in page (bench/floor_wsgi.py: base.html with an
empty content block) and the yardstick app (bench/bare_app.py: `/bare`, one `SELECT 1`
through a SQLAlchemy pool, no session, no template). The same N keep-alive clients take turns
in short rounds — floor, bare, /healthz with the buyer's session cookie, floor, bare, ... —
so a machine whose speed drifts (2 shared cores) slows all of them alike. Reported: req/s and
server/client percentiles per phase, the ratios per round and overall, and the 1-minute load
average before and after. Set PORTAL_REDIS_URL to measure with Redis as in production.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from catalog_common import Client, gunicorn, read_access_log, summary_ms
from catalog_search import Phase, run_phase


def load_average() -> float:
    return os.getloadavg()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30, help="per phase, all rounds")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--login", default="buyer")
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as scratch:
        portal_log, bare_log = Path(scratch) / "portal.log", Path(scratch) / "bare.log"
        with (
            gunicorn(
                workers=args.workers, access_log=portal_log, app="bench.floor_wsgi:app"
            ) as portal_port,
            gunicorn(
                workers=args.workers, access_log=bare_log, app="bench.bare_app:app", ready="/bare"
            ) as bare_port,
        ):
            user = Client(portal_port).login(args.login)
            status, body = user.get("/bench-floor/")
            assert status == 200 and b"<nav" in body, (status, body[:200])
            for port, path in ((portal_port, "/bench-floor/"), (bare_port, "/bare")):
                run_phase(port, user.cookies, [path], args.clients, 2)  # warm both workers
            time.sleep(0.3)
            portal_log.write_text("")
            bare_log.write_text("")
            floor, bare, health = Phase(["/bench-floor/"]), Phase(["/bare"]), Phase(["/healthz"])
            share = args.seconds / args.rounds
            for _round in range(args.rounds):
                floor.run(portal_port, user.cookies, args.clients, share)
                bare.run(bare_port, {}, args.clients, share)
                health.run(portal_port, user.cookies, args.clients, share)
            time.sleep(0.5)
        server_floor = read_access_log(portal_log, "/bench-floor/")
        server_health = read_access_log(portal_log, "/healthz")
        server_bare = read_access_log(bare_log, "/bare")
    failures = [s for _p, _ms, s in floor.done + bare.done + health.done if s != 200]
    shared = "Redis" if os.environ.get("PORTAL_REDIS_URL") else "no Redis"
    print(
        f"gunicorn -w {args.workers} (sync) x2 apps, {args.clients} keep-alive clients, "
        f"{args.seconds:.0f} s per phase in {args.rounds} rounds, {shared}, as {args.login}"
    )
    print(f"load average (1 min) before {load_before:.2f}, after {load_average():.2f}")
    print(f"floor   server: {summary_ms(server_floor)}")
    print(f"healthz server: {summary_ms(server_health)}  (signed-in cookie)")
    print(f"bare    server: {summary_ms(server_bare)}")
    print(f"floor   client: {summary_ms([ms for _p, ms, _s in floor.done])}")
    print(f"bare    client: {summary_ms([ms for _p, ms, _s in bare.done])}")
    print(
        f"throughput floor {floor.rate:7.1f}  healthz {health.rate:7.1f}  "
        f"bare {bare.rate:7.1f} req/s"
    )
    rounds = [100 * f / b for f, b in zip(floor.rates, bare.rates, strict=True)]
    health_rounds = [100 * h / b for h, b in zip(health.rates, bare.rates, strict=True)]
    print(
        f"ratio floor/bare   {100 * floor.rate / bare.rate:5.1f} %  (rounds: "
        f"{' '.join(f'{r:.0f}' for r in rounds)})"
    )
    print(
        f"ratio healthz/bare {100 * health.rate / bare.rate:5.1f} %  (rounds: "
        f"{' '.join(f'{r:.0f}' for r in health_rounds)})"
    )
    print(f"non-200 responses: {len(failures)}")


if __name__ == "__main__":
    main()
