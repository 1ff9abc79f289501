"""10,000 telemetry points in one request (POST /api/v1/telemetry), stored on PostgreSQL.

    export PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_api
    (a database after `flask db upgrade` and `flask seed-demo`)
    .venv/bin/python bench/api_telemetry.py [--points 10000] [--rounds 7]

As the demo gas customer's key, one request per round carries hourly series spread over the
organisation's meters: new intervals each round (all created), then the same body again (all
unchanged) and once with every value changed (all updated). Prints the request time p50/max of
each kind, and the server's peak memory. The target: ≤ 2 s for 10,000 points. Asserts nothing.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_common import JsonClient, issue_key, peak_rss_mb, server  # noqa: E402
from bench.catalog_common import connect, percentile  # noqa: E402


def meters(client):
    status, data = client.request("GET", "/api/v1/meters")
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
    return [meter["id"] for meter in json.loads(data)["meters"]]


def body(meter_ids, points, start, volume="1.234"):
    per_meter = -(-points // len(meter_ids))
    series, left = [], points
    for meter_id in meter_ids:
        count = min(per_meter, left)
        left -= count
        series.append(
            {
                "meter_id": meter_id,
                "granularity": "hour",
                "points": [
                    {"at": (start + timedelta(hours=n)).isoformat(), "volume": volume}
                    for n in range(count)
                ],
            }
        )
    return {"series": [one for one in series if one["points"]]}


def timed(client, payload, expect):
    before = time.perf_counter()
    status, data = client.request("POST", "/api/v1/telemetry", payload)
    elapsed = time.perf_counter() - before
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {data[:500]!r}")
    result = json.loads(data)
    assert result[expect] == sum(len(s["points"]) for s in payload["series"]), result
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--login", default="gas")
    args = parser.parse_args()
    token, organisation = issue_key(args.login, ["submit_readings"])
    with server(workers=1) as (port, workers):
        client = JsonClient(port, token)
        meter_ids = meters(client)
        print(f"{len(meter_ids)} meters, {args.points} points a request", flush=True)
        size = len(json.dumps(body(meter_ids, args.points, datetime(2020, 1, 1, tzinfo=UTC))))
        print(f"body {size / 1024:.0f} KiB", flush=True)
        created, unchanged, updated = [], [], []
        # The bench database's telemetry of this organisation starts empty: rounds create anew.
        with connect() as connection:
            connection.execute(
                "DELETE FROM meter_telemetry WHERE organisation_id = %s", (organisation,)
            )
        hours = -(-args.points // len(meter_ids))
        for round_number in range(args.rounds):
            start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(hours=hours * round_number)
            payload = body(meter_ids, args.points, start)
            created.append(timed(client, payload, "created"))
            unchanged.append(timed(client, payload, "unchanged"))
            updated.append(timed(client, body(meter_ids, args.points, start, "2.5"), "updated"))
            print(
                f"round {round_number + 1}: created {created[-1]:.2f} s, unchanged "
                f"{unchanged[-1]:.2f} s, updated {updated[-1]:.2f} s",
                flush=True,
            )
        for name, values in (("created", created), ("unchanged", unchanged), ("updated", updated)):
            print(f"{name:9}: p50 {percentile(values, 0.5):.2f} s, max {max(values):.2f} s")
        print(f"peak RSS server worker {max(peak_rss_mb(pid) for pid in workers):.0f} MB")


if __name__ == "__main__":
    main()
