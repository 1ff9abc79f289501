"""Catalogue sync through the API: every item of the 50,000-item bench catalogue by pages of 500.

    createdb -h 127.0.0.1 -U postgres portal_bench_api
    export PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_api
    .venv/bin/flask --app wsgi db upgrade && .venv/bin/flask --app wsgi seed-demo
    .venv/bin/python bench/catalog_generate.py            # 50,000 items
    .venv/bin/python bench/api_catalog_sync.py [--limit 500] [--rounds 3]

Follows `next_cursor` from the first page to the last as the demo pharmacy buyer's key (one
gunicorn worker, one keep-alive client connection), and prints per round the total time, pages
per second, items per second, the page time p50/p95, and the peak resident memory (VmHWM) of
the server's worker and of this client. Prints figures, asserts nothing.
"""

import argparse
import json
import resource
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_common import JsonClient, issue_key, peak_rss_mb, server  # noqa: E402
from bench.catalog_common import percentile  # noqa: E402


def sync(client, limit):
    pages, items, times, cursor = 0, 0, [], None
    started = time.perf_counter()
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        before = time.perf_counter()
        status, data = client.request(
            "GET", "/api/v1/catalog/items?" + urllib.parse.urlencode(query)
        )
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
        body = json.loads(data)
        times.append((time.perf_counter() - before) * 1000)
        pages += 1
        items += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return time.perf_counter() - started, pages, items, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--login", default="buyer")
    args = parser.parse_args()
    token, _organisation = issue_key(args.login, ["view_prices"])
    with server(workers=1) as (port, workers):
        client = JsonClient(port, token)
        for round_number in range(1, args.rounds + 1):
            total, pages, items, times = sync(client, args.limit)
            server_mb = max(peak_rss_mb(pid) for pid in workers)
            client_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"round {round_number}: {items} items in {pages} pages of {args.limit}: "
                f"{total:.1f} s total, {pages / total:.1f} pages/s, {items / total:.0f} items/s; "
                f"page p50 {percentile(times, 0.5):.0f} ms p95 {percentile(times, 0.95):.0f} ms; "
                f"peak RSS server worker {server_mb:.0f} MB, client {client_mb:.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
