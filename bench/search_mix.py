"""Search with a realistic mix: thousands of distinct searches, none repeated, the answer cache
cold, against a bare endpoint and a minimal app running the portal's own search statements.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/perf \
        .venv/bin/python bench/search_mix.py [--queries 6000] [--clients 4] [--seconds 30]

The mix (drawn from the database with a fixed seed): trade names (as typed, lower case,
prefixes), МНН, name + strength, barcodes, SKUs, makers and typos; a third with a filter
(category, maker, Rx, in stock, on promotion, vital), pages 1-5 (mostly 1), sorted by name,
price or newest. Every search is sent once: the portal's answer cache (on, as in production)
never answers one of them, so each costs its SQL.

Two gunicorns with the same options (`-w N`, sync): the portal (the demo buyer signed in,
`/catalog/?...`) and bench/bare_app.py (`/bare`: one `SELECT 1`; `/search?...`: the portal's
`search._find` plus one query for names and prices, a plain table). The three phases take
turns in short rounds over disjoint slices of the mix. Reported: req/s, p50/p95 (server time
from gunicorn's access log and client time), ratios per round and overall, load average.
"""

import argparse
import os
import random
import tempfile
import time
import urllib.parse
from pathlib import Path

from catalog_common import Client, connect, gunicorn, percentile, read_access_log, summary_ms
from catalog_search import Phase, run_phase, typo

SORTS = ["name"] * 6 + ["price_asc", "price_desc", "newest"]
PAGES = [1] * 12 + [2, 2, 2, 3, 3, 4, 5]


def realistic_mix(size: int, seed: int) -> list[tuple[str, dict]]:
    """(kind, query arguments) for `size` distinct searches."""
    generator = random.Random(seed)
    with connect() as conn:
        rows = conn.execute(
            "SELECT i.trade_name, i.generic_name, i.strength, i.sku, i.barcode, m.name,"
            " i.category_id, i.manufacturer_id"
            " FROM catalog_items i LEFT JOIN catalog_manufacturers m ON m.id = i.manufacturer_id"
            " WHERE i.is_active ORDER BY md5(i.id::text || %s) LIMIT %s",
            (str(seed), size * 2),
        ).fetchall()
    seen, mix = set(), []
    for trade, generic, strength, sku, barcode, maker, category_id, maker_id in rows:
        roll = generator.random()
        if roll < 0.22:
            kind, text = "name", trade.lower() if generator.random() < 0.5 else trade
        elif roll < 0.32:
            kind, text = "name prefix", trade[: max(4, len(trade) - 2)]
        elif roll < 0.46:
            kind, text = "МНН", (generic or trade).lower()
        elif roll < 0.56:
            kind, text = "name+strength", f"{trade} {strength or ''}".strip()
        elif roll < 0.66:
            kind, text = "barcode", barcode
        elif roll < 0.76:
            kind, text = "SKU", sku.lower() if generator.random() < 0.3 else sku
        elif roll < 0.80:
            kind, text = "maker", maker or trade
        else:
            kind, text = "typo", typo(trade.lower(), generator)
        args = {"q": text}
        filter_roll = generator.random()
        if filter_roll < 0.08:
            args["category"] = category_id
        elif filter_roll < 0.12:
            args["manufacturer"] = maker_id
        elif filter_roll < 0.18:
            args["in_stock"] = 1
        elif filter_roll < 0.22:
            args["rx"] = generator.choice(("yes", "no"))
        elif filter_roll < 0.25:
            args["promotion"] = 1
        elif filter_roll < 0.30:
            args["vital"] = 1
        sort = generator.choice(SORTS)
        if sort != "name":
            args["sort"] = sort
        page = generator.choice(PAGES) if kind in ("name prefix", "МНН", "maker") else 1
        if page > 1:
            args["page"] = page
        key = tuple(sorted(args.items()))
        if key in seen:
            continue
        seen.add(key)
        mix.append((kind, args))
        if len(mix) == size:
            break
    return mix


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=6000, help="distinct searches")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30, help="per phase, all rounds")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    mix = realistic_mix(args.queries, args.seed)
    # Disjoint halves: the portal and the minimal app each see every search once at most.
    half = len(mix) // 2
    portal_paths = ["/catalog/?" + urllib.parse.urlencode(a) for _k, a in mix[:half]]
    minimal_paths = ["/search?" + urllib.parse.urlencode(a) for _k, a in mix[half:]]
    kind_of = {p: k for p, (k, _a) in zip(portal_paths, mix[:half], strict=True)}
    warm = realistic_mix(200, args.seed + 1)
    with tempfile.TemporaryDirectory() as scratch:
        portal_log, bare_log = Path(scratch) / "portal.log", Path(scratch) / "bare.log"
        with (
            gunicorn(workers=args.workers, access_log=portal_log) as portal_port,
            gunicorn(
                workers=args.workers, access_log=bare_log, app="bench.bare_app:app", ready="/bare"
            ) as bare_port,
        ):
            buyer = Client(portal_port).login("buyer")
            status, _body = buyer.get(portal_paths[0])
            assert status == 200, status
            warm_portal = ["/catalog/?" + urllib.parse.urlencode(a) for _k, a in warm[:100]]
            warm_minimal = ["/search?" + urllib.parse.urlencode(a) for _k, a in warm[100:]]
            run_phase(portal_port, buyer.cookies, warm_portal, args.clients, 3)
            run_phase(bare_port, {}, warm_minimal + ["/bare"], args.clients, 3)
            time.sleep(0.3)
            portal_log.write_text("")
            bare_log.write_text("")
            search = Phase(portal_paths, split=True)  # each client its own share
            minimal = Phase(minimal_paths, split=True)
            bare = Phase(["/bare"])
            share = args.seconds / args.rounds
            for _round in range(args.rounds):
                search.run(portal_port, buyer.cookies, args.clients, share)
                bare.run(bare_port, {}, args.clients, share)
                minimal.run(bare_port, {}, args.clients, share)
            time.sleep(0.5)
        server_search = read_access_log(portal_log, "/catalog/")
        server_minimal = read_access_log(bare_log, "/search")
        server_bare = read_access_log(bare_log, "/bare")
    sent = [p for p, _ms, _s in search.done]
    repeated = len(sent) - len(set(sent))
    failures = [s for _p, _ms, s in search.done + minimal.done + bare.done if s != 200]
    print(
        f"gunicorn -w {args.workers} (sync) x2 apps, {args.clients} keep-alive clients, "
        f"{args.seconds:.0f} s per phase in {args.rounds} rounds; {len(mix)} distinct searches "
        f"({half} for the portal), repeated by the portal: {repeated}; answer cache "
        f"{os.environ.get('PORTAL_CATALOG_CACHE_SECONDS', '60')} s "
        f"({'Redis' if os.environ.get('PORTAL_REDIS_URL') else 'per process'})"
    )
    print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"portal search server : {summary_ms(server_search)}")
    print(f"portal search client : {summary_ms([ms for _p, ms, _s in search.done])}")
    print(f"minimal search server: {summary_ms(server_minimal)}")
    print(f"bare endpoint server : {summary_ms(server_bare)}")
    print(
        f"throughput: portal {search.rate:7.1f}  minimal {minimal.rate:7.1f}  "
        f"bare {bare.rate:7.1f} req/s"
    )
    for name, other in (("bare", bare), ("minimal", minimal)):
        rounds = [100 * s / o for s, o in zip(search.rates, other.rates, strict=True)]
        print(
            f"ratio portal/{name:8s} {100 * search.rate / other.rate:5.1f} %  (rounds: "
            f"{' '.join(f'{r:.0f}' for r in rounds)})"
        )
    print(f"non-200 responses: {len(failures)}")
    print("portal client time by query kind (p50 / p95 ms, n):")
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
