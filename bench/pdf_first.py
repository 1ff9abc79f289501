"""The first PDF of a fresh worker: with and without the warm-up at worker start.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/perf \
        .venv/bin/python bench/pdf_first.py [--runs 3] [--order 1]

gunicorn starts with the committed gunicorn.conf.py and one worker, alternately with
PORTAL_WEB_WARM_PDF=1 (the default: `post_worker_init` writes one small PDF) and =0; the demo
buyer signs in and downloads an order's invoice PDF twice. Reported per run: the first and
the second download (the second is what every later one costs), and the load average.
"""

import argparse
import os
import statistics
import time

from catalog_common import ROOT, Client, gunicorn


def one_run(warm: bool, order_id: int) -> tuple[float, float]:
    env = {"PORTAL_WEB_WARM_PDF": "1" if warm else "0"}
    with gunicorn(workers=1, env=env, config=ROOT / "gunicorn.conf.py") as port:
        buyer = Client(port).login("buyer")
        times = []
        for _ in range(2):
            began = time.perf_counter()
            status, body = buyer.get(f"/orders/{order_id}/invoice.pdf")
            times.append(time.perf_counter() - began)
            assert status == 200 and body.startswith(b"%PDF"), status
        return times[0], times[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--order", type=int, default=1)
    args = parser.parse_args()
    results = {True: [], False: []}
    for run in range(args.runs):
        for warm in (False, True):
            load = os.getloadavg()[0]
            first, second = one_run(warm, args.order)
            results[warm].append((first, second))
            print(
                f"run {run + 1} warm-up {'on ' if warm else 'off'}: first PDF {first:6.3f} s, "
                f"second {second:6.3f} s  (load {load:.1f})"
            )
    for warm in (False, True):
        firsts = [f for f, _s in results[warm]]
        seconds = [s for _f, s in results[warm]]
        print(
            f"warm-up {'on ' if warm else 'off'}: first PDF median "
            f"{statistics.median(firsts):.3f} s ({min(firsts):.3f}-{max(firsts):.3f}), "
            f"later ones median "
            f"{statistics.median(seconds):.3f} s"
        )


if __name__ == "__main__":
    main()
