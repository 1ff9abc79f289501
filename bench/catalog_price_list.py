"""The 50,000-item price list XLSX through its route: time and peak memory.

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_price_list.py

The demo buyer downloads /catalog/price-list.xlsx with Flask's test client; the response body
is read in chunks (as a browser would) and its rows counted. Two runs: the first for time and
the process's RSS sampled every 5 ms (it includes the interpreter, Flask, SQLAlchemy, openpyxl
and WeasyPrint imports: the baseline is printed too); the second under tracemalloc for the
peak of Python allocations made by the download itself (tracemalloc slows it down).

Then the yardstick: bare openpyxl, a write-only workbook of the same cells (the values read
back from the portal's file, already in memory, written with no styles) saved to a temporary
file — what writing those cells costs at the least, without the query, the prices, the
styles and the response. `--rounds N` alternates the portal's download (untraced) and the
bare write N times and prints each pair and the ratio of the medians.
"""

import argparse
import io
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

from openpyxl import Workbook, load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_common import DEMO_PASSWORD, database_url  # noqa: E402

from portal import create_app  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler(threading.Thread):
    """Samples the process RSS every 5 ms: its maximum is the download's peak."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0.0
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)


def download(client) -> tuple[int, float]:
    began = time.perf_counter()
    response = client.get("/catalog/price-list.xlsx", buffered=False)
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    return size, time.perf_counter() - began


def bare_write(rows) -> float:
    """Bare openpyxl write-only: the same cells, no styles, saved to a temporary file."""
    began = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Прайс-лист")
    for row in rows:
        sheet.append(row)
    with tempfile.TemporaryFile() as target:
        workbook.save(target)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="portal / bare alternations")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc download")
    parser.add_argument(
        "--no-bare", action="store_true", help="skip the check and the bare openpyxl yardstick"
    )
    arguments = parser.parse_args()
    database_url()
    app = create_app()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "login": "buyer",
            "password": DEMO_PASSWORD,
        },
    )
    offer = client.get("/offer")
    if offer.status_code == 200:
        token = CSRF.search(offer.get_data(as_text=True)).group(1)
        client.post("/offer", data={"csrf_token": token, "accept": "y"})
    consent = client.get("/privacy/consent")  # the consent to processing, asked after the offer
    if consent.status_code == 200:
        form = consent.get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="([^"]+)"', form).group(1)
        client.post(
            "/privacy/consent",
            data={"csrf_token": CSRF.search(form).group(1), "accept": "y", "version": version},
        )
    client.get("/catalog/")  # imports, templates, connection: not the price list's memory
    baseline_rss, baseline_peak = rss_mb(), peak_rss_mb()

    sampler = RssSampler()
    sampler.start()
    size, seconds = download(client)
    sampler.running = False
    sampler.join()

    print(
        f"{size / 1048576:.1f} MB XLSX built and sent in {seconds:.1f} s; process RSS before "
        f"the download {baseline_rss:.0f} MB, peak during it {sampler.peak:.0f} MB "
        f"(+{sampler.peak - baseline_rss:.0f} MB)",
        flush=True,
    )
    if not arguments.no_trace:
        tracemalloc.start()
        download(client)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"tracemalloc peak of the download: {traced_peak / 1048576:.1f} MB", flush=True)
    if arguments.no_bare:
        return

    # Check the file is the whole catalogue (outside the measurements).
    response = client.get("/catalog/price-list.xlsx")
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    cells = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    del response
    rows = len(cells) - 2
    portal_seconds, bare_seconds = [seconds], [bare_write(cells)]
    for _ in range(arguments.rounds - 1):
        portal_seconds.append(download(client)[1])
        bare_seconds.append(bare_write(cells))
    print(
        f"price list: {rows} items, {size / 1048576:.1f} MB XLSX, built and sent in {seconds:.1f} s"
    )
    print(
        f"process RSS before the download {baseline_rss:.0f} MB; peak RSS during it "
        f"{sampler.peak:.0f} MB (+{sampler.peak - baseline_rss:.0f} MB); "
        f"ru_maxrss before {baseline_peak:.0f} MB, after {peak_rss_mb():.0f} MB"
    )
    portal_median, bare_median = statistics.median(portal_seconds), statistics.median(bare_seconds)
    filled = sum(1 for row in cells for value in row if value is not None)
    pairs = zip(portal_seconds, bare_seconds, strict=True)
    print(
        f"portal download / bare openpyxl write-only of the same {filled:,} cells: "
        + ", ".join(f"{p:.2f}/{b:.2f} s" for p, b in pairs)
        + f"; medians {portal_median:.2f} / {bare_median:.2f} s = "
        f"{portal_median / bare_median:.2f}x"
    )


if __name__ == "__main__":
    main()
