"""Catalogue search under gunicorn: server-time percentiles and throughput against /healthz.

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_search.py [--clients 4] [--seconds 20] [--workers 2]

One gunicorn (`-w 2 wsgi:app`, sync workers) serves both phases of the same run:
(a) the demo buyer (pharmacy, can see prices) searches the 50,000-item catalogue with a mix of
trade names, МНН, barcodes, SKUs, makers, name+strength and typos, from N keep-alive clients;
(b) the same N clients call /healthz (a bare endpoint: one `SELECT 1`) for the same time;
(c) for comparison, the same clients open the lightest signed-in page (/notifications/: the
sign-in check, the menu and one short list): what every portal page costs before its own work.
Run with PORTAL_CATALOG_CACHE_SECONDS=0 to measure searches without the answer cache.
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


def run_phase(port, cookies, paths, clients, seconds):
    """N keep-alive clients loop over the paths for the given time; returns timings."""
    latencies: list[list[tuple[str, float, int]]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds
    start_gate = threading.Barrier(clients + 1)

    def work(index):
        client = Client(port)
        client.cookies = dict(cookies)
        generator = random.Random(index)
        own = paths[:]
        generator.shuffle(own)
        start_gate.wait()
        position = 0
        while time.perf_counter() < stop:
            path = own[position % len(own)]
            position += 1
            began = time.perf_counter()
            status, _ = client.get(path)
            latencies[index].append((path, (time.perf_counter() - began) * 1000, status))

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
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
            # Warm both workers (imports, connection pool, templates, PostgreSQL cache).
            run_phase(port, buyer.cookies, search_paths, args.clients, 3)
            run_phase(port, buyer.cookies, ["/healthz"], args.clients, 1)
            time.sleep(0.5)
            log.write_text("")  # gunicorn appends; the measured phases start from empty

            search, search_seconds = run_phase(
                port, buyer.cookies, search_paths, args.clients, args.seconds
            )
            bare, bare_seconds = run_phase(
                port, buyer.cookies, ["/healthz"], args.clients, args.seconds
            )
            light, light_seconds = run_phase(
                port, buyer.cookies, ["/notifications/"], args.clients, args.seconds
            )
            time.sleep(0.5)  # let gunicorn flush the access log
        server_search = read_access_log(log, "/catalog/")
        server_bare = read_access_log(log, "/healthz")
        server_light = read_access_log(log, "/notifications/")

    failures = [s for _p, _ms, s in search + bare + light if s != 200]
    search_rate = len(search) / search_seconds
    bare_rate = len(bare) / bare_seconds
    light_rate = len(light) / light_seconds
    cache = os.environ.get("PORTAL_CATALOG_CACHE_SECONDS", "60")
    print(
        f"gunicorn -w {args.workers} (sync), {args.clients} keep-alive clients, "
        f"{args.seconds:.0f} s per phase, {len(queries)} distinct queries, "
        f"search cache {cache} s"
    )
    print(f"search server time : {summary_ms(server_search)}")
    print(f"search client time : {summary_ms([ms for _p, ms, _s in search])}")
    print(f"bare   server time : {summary_ms(server_bare)}")
    print(f"bare   client time : {summary_ms([ms for _p, ms, _s in bare])}")
    print(f"light  server time : {summary_ms(server_light)}")
    print(f"search throughput  : {search_rate:7.1f} req/s")
    print(f"bare   throughput  : {bare_rate:7.1f} req/s")
    print(f"light  throughput  : {light_rate:7.1f} req/s (lightest signed-in page)")
    print(f"ratio search/bare  : {100 * search_rate / bare_rate:5.1f} %")
    print(f"ratio light/bare   : {100 * light_rate / bare_rate:5.1f} %")
    print(f"non-200 responses  : {len(failures)}")
    print("client time by query kind (p50 / p95 ms, n):")
    by_kind: dict[str, list[float]] = {}
    for path, ms, _status in search:
        by_kind.setdefault(kind_of[path], []).append(ms)
    for kind, values in sorted(by_kind.items()):
        print(
            f"  {kind:14s} {percentile(values, 0.5):6.1f} / {percentile(values, 0.95):6.1f}"
            f"  ({len(values)})"
        )


if __name__ == "__main__":
    main()
