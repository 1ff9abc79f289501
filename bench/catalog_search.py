"""Catalogue search under gunicorn: server-time percentiles and throughput against /healthz.

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_search.py [--clients 4] [--seconds 20] [--workers 2]

One gunicorn (`-w 2 wsgi:app`, sync workers) serves all phases of the same run:
(a) the demo buyer (pharmacy, can see prices) searches the 50,000-item catalogue with a mix of
trade names, МНН, barcodes, SKUs, makers, name+strength and typos, from N keep-alive clients;
(b) the same N clients call /healthz (a bare endpoint: one `SELECT 1`) for the same time;
(c) for comparison, the same clients open the lightest signed-in page (/notifications/: the
sign-in check, the menu and one short list): what every portal page costs before its own work.
The phases take turns in --rounds short rounds (search, bare, light, search, ...), so that a
machine whose speed drifts during the run (a shared VM does) slows all of them alike; each
client goes on through its own shuffled query list from round to round.
Run with PORTAL_CATALOG_CACHE_SECONDS=0 to measure searches with no catalogue caching at all
(answers, filter lists, serving warehouse, rendered result tables).
Server time is gunicorn's per-request duration (%(D)s in the access log, measured inside the
worker); client time is measured around each request and includes queueing for a free worker.
"""

import argparse
import os
import random
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from catalog_common import Client, connect, gunicorn, percentile, read_access_log, summary_ms


def typo(word: str, generator: random.Random) -> str:
    """One letter replaced, dropped or doubled, somewhere after the first two."""
    position = generator.randint(2, len(word) - 1)
    kind = generator.choice(("replace", "drop", "double"))
    if kind == "replace":
        return word[:position] + generator.choice("аеиоуялнрст") + word[position + 1 :]
    if kind == "drop":
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position] + word[position:]


def query_mix(generator: random.Random, size=400) -> list[tuple[str, str]]:
    """(kind, query) pairs drawn from the database, in the proportions a buyer might type."""
    with connect() as conn:
        rows = conn.execute(
            "SELECT i.trade_name, i.generic_name, i.strength, i.sku, i.barcode, m.name"
            " FROM catalog_items i LEFT JOIN catalog_manufacturers m ON m.id = i.manufacturer_id"
            " WHERE i.is_active ORDER BY random() LIMIT %s",
            (size,),
        ).fetchall()
    queries = []
    for trade, generic, strength, sku, barcode, maker in rows:
        roll = generator.random()
        if roll < 0.25:
            queries.append(("name", trade.lower() if generator.random() < 0.5 else trade))
        elif roll < 0.35:
            queries.append(("name prefix", trade[: max(4, len(trade) - 2)]))
        elif roll < 0.50:
            queries.append(("МНН", (generic or trade).upper() if roll < 0.4 else generic or trade))
        elif roll < 0.60:
            queries.append(("name+strength", f"{trade} {strength or ''}".strip()))
        elif roll < 0.72:
            queries.append(("barcode", barcode))
        elif roll < 0.84:
            queries.append(("SKU", sku.lower() if generator.random() < 0.3 else sku))
        elif roll < 0.88:
            queries.append(("maker", maker))
        else:
            queries.append(("typo", typo(trade.lower(), generator)))
    return queries


def run_phase(port, cookies, paths, clients, seconds, positions=None, split=False):
    """N keep-alive clients loop over the paths for the given time; returns timings.

    Each client walks its own shuffled copy of the paths; `positions` (a dict kept by the
    caller) lets the next round go on where this one stopped instead of starting again.
    With `split`, client i walks only every N-th path from the i-th: no path is sent twice
    until a client has gone through its whole share.
    """
    positions = {} if positions is None else positions
    latencies: list[list[tuple[str, float, int]]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds
    start_gate = threading.Barrier(clients + 1)

    def work(index):
        client = Client(port)
        client.cookies = dict(cookies)
        own = paths[index::clients] if split else paths[:]
        random.Random(index).shuffle(own)
        position = positions.get(index, 0)
        start_gate.wait()
        while time.perf_counter() < stop:
            path = own[position % len(own)]
            position += 1
            began = time.perf_counter()
            status, _ = client.get(path)
            latencies[index].append((path, (time.perf_counter() - began) * 1000, status))
        positions[index] = position

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    done = [entry for per_client in latencies for entry in per_client]
    return done, elapsed


class Phase:
    """One kind of request measured over several rounds: all timings and the time spent."""

    def __init__(self, paths, split=False):
        self.paths, self.done, self.seconds, self.rates, self.positions = paths, [], 0.0, [], {}
        self.split = split

    def run(self, port, cookies, clients, seconds):
        done, elapsed = run_phase(
            port, cookies, self.paths, clients, seconds, self.positions, self.split
        )
        self.done += done
        self.seconds += elapsed
        self.rates.append(len(done) / elapsed)

    @property
    def rate(self):
        return len(self.done) / self.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=4, help="turns of search, bare, light")
    args = parser.parse_args()
    generator = random.Random(args.seed)
    queries = query_mix(generator)
    search_paths = ["/catalog/?" + urllib.parse.urlencode({"q": q}) for _kind, q in queries]
    kind_of = dict(zip(search_paths, (kind for kind, _q in queries), strict=True))

    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "access.log"
        with gunicorn(workers=args.workers, access_log=log) as port:
            buyer = Client(port).login("buyer")
            status, body = buyer.get(search_paths[0])
            assert status == 200 and b"catalog" in body, status
            # Warm both workers (imports, connection pool, templates, PostgreSQL's buffers)
            # with other queries than the measured ones: their answers must not be cached yet.
            warm_up = query_mix(random.Random(args.seed + 1), size=100)
            warm_paths = ["/catalog/?" + urllib.parse.urlencode({"q": q}) for _k, q in warm_up]
            run_phase(port, buyer.cookies, warm_paths, args.clients, 3)
            run_phase(port, buyer.cookies, ["/healthz"], args.clients, 1)
            time.sleep(0.5)
            log.write_text("")  # gunicorn appends; the measured phases start from empty

            search = Phase(search_paths)
            bare = Phase(["/healthz"])
            light = Phase(["/notifications/"])
            for _round in range(args.rounds):
                for phase in (search, bare, light):
                    phase.run(port, buyer.cookies, args.clients, args.seconds / args.rounds)
            time.sleep(0.5)  # let gunicorn flush the access log
        server_search = read_access_log(log, "/catalog/")
        server_bare = read_access_log(log, "/healthz")
        server_light = read_access_log(log, "/notifications/")

    failures = [s for _p, _ms, s in search.done + bare.done + light.done if s != 200]
    cache = os.environ.get("PORTAL_CATALOG_CACHE_SECONDS", "60")
    shared = "Redis" if os.environ.get("PORTAL_REDIS_URL") else "per process"
    print(
        f"gunicorn -w {args.workers} (sync), {args.clients} keep-alive clients, "
        f"{args.seconds:.0f} s per phase in {args.rounds} rounds, {len(queries)} distinct "
        f"queries, search cache {cache} s ({shared})"
    )
    print(f"search server time : {summary_ms(server_search)}")
    print(f"search client time : {summary_ms([ms for _p, ms, _s in search.done])}")
    print(f"bare   server time : {summary_ms(server_bare)}")
    print(f"bare   client time : {summary_ms([ms for _p, ms, _s in bare.done])}")
    print(f"light  server time : {summary_ms(server_light)}")
    print(f"search throughput  : {search.rate:7.1f} req/s")
    print(f"bare   throughput  : {bare.rate:7.1f} req/s")
    print(f"light  throughput  : {light.rate:7.1f} req/s (lightest signed-in page)")
    by_round = [100 * s / b for s, b in zip(search.rates, bare.rates, strict=True)]
    print(
        f"ratio search/bare  : {100 * search.rate / bare.rate:5.1f} %"
        f"  (rounds: {' '.join(f'{r:.0f}' for r in by_round)} %)"
    )
    print(f"ratio light/bare   : {100 * light.rate / bare.rate:5.1f} %")
    print(f"non-200 responses  : {len(failures)}")
    print("client time by query kind (p50 / p95 ms, n):")
    by_kind: dict[str, list[float]] = {}
    for path, ms, _status in search.done:
        by_kind.setdefault(kind_of[path], []).append(ms)
    for kind, values in sorted(by_kind.items()):
        print(
            f"  {kind:14s} {percentile(values, 0.5):6.1f} / {percentile(values, 0.95):6.1f}"
            f"  ({len(values)})"
        )


if __name__ == "__main__":
    main()
