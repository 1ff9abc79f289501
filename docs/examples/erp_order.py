"""Sync the portal's catalogue and place an order from a CSV file — an ERP's two jobs.

    export PORTAL=http://127.0.0.1:5000 PORTAL_API_KEY='sp_….…'
    python docs/examples/erp_order.py order.csv [--deferred] [--place]

order.csv has a header and the columns `code` (SKU or EAN) and `quantity`:

    code;quantity
    T00001;10
    4600000000017;2

1. A catalogue sync: every page of /api/v1/catalog/items (a delta with `updated_since` when
   catalogue.json from an earlier run exists), kept in catalogue.json.
2. A dry run of the CSV's lines: the prices, or each bad line with its problem.
3. With --place: the order, sent with an Idempotency-Key made from the file's content, so
   running the script twice for the same file places one order.
Only the `requests` library is needed.
"""

import argparse
import csv
import hashlib
import json
import os
import sys
from pathlib import Path

import requests

STORE = Path("catalogue.json")


def session() -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {os.environ['PORTAL_API_KEY']}"
    return http


def api(path: str) -> str:
    return os.environ["PORTAL"].rstrip("/") + "/api/v1" + path


def sync_catalogue(http) -> dict:
    store = json.loads(STORE.read_text()) if STORE.exists() else {"since": None, "items": {}}
    params = {"limit": 500}
    if store["since"]:
        params["updated_since"] = store["since"]
    first_server_time = None
    while True:
        page = http.get(api("/catalog/items"), params=params, timeout=60)
        page.raise_for_status()
        body = page.json()
        first_server_time = first_server_time or body["server_time"]
        for item in body["items"]:
            if item["active"]:
                store["items"][item["sku"]] = item
            else:
                store["items"].pop(item["sku"], None)
        if not body["next_cursor"]:
            break
        params = {"limit": 500, "cursor": body["next_cursor"]}
    store["since"] = first_server_time
    STORE.write_text(json.dumps(store, ensure_ascii=False))
    print(f"catalogue: {len(store['items'])} items (in sync at {first_server_time})")
    return store["items"]


def read_lines(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    lines = []
    for row in rows:
        code = row["code"].strip()
        kind = "ean" if code.isdigit() and len(code) == 13 else "sku"
        lines.append({kind: code, "quantity": int(row["quantity"])})
    return lines


def show_problem(response) -> None:
    problem = response.json()
    print(f"{problem['status']} {problem['title']}: {problem['detail']}")
    for error in problem.get("errors", []):
        where = (
            f"line {error['index'] + 1} ({error['sku']})" if "index" in error else error["field"]
        )
        print(f"  {where}: {error['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--deferred", action="store_true", help="deferred payment")
    parser.add_argument("--place", action="store_true", help="place the order after the dry run")
    args = parser.parse_args()
    http = session()
    sync_catalogue(http)
    body = {
        "lines": read_lines(args.csv),
        "payment_terms": "deferred" if args.deferred else "prepayment",
        "comment": f"From the ERP: {args.csv.name}",
    }
    quote = http.post(api("/orders"), params={"dry_run": "true"}, json=body, timeout=60)
    if quote.status_code != 200:
        show_problem(quote)
        return 1
    priced = quote.json()
    print(
        f"dry run: {len(priced['lines'])} lines, total {priced['total']} RUB, "
        f"delivery {priced['delivery_date']}"
    )
    if not args.place:
        return 0
    key = "csv-" + hashlib.sha256(args.csv.read_bytes()).hexdigest()[:32]
    placed = http.post(api("/orders"), json=body, headers={"Idempotency-Key": key}, timeout=60)
    if placed.status_code != 201:
        show_problem(placed)
        return 1
    order = placed.json()
    again = (
        " (already placed: the same answer again)"
        if placed.headers.get("Idempotent-Replayed")
        else ""
    )
    print(f"order {order['number']}: {order['status']}, total {order['total']} RUB{again}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
