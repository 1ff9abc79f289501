"""200 checkouts by 16 concurrent buyers contending for the same 50 items, over HTTP.

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_checkout.py [--clients 16] [--orders 200] [--stock 20]

Setup (in the database): 16 buyers of the demo pharmacy (each has their own server-side cart),
50 items of the pharmacy's warehouse with `--stock` packs each (minimum 1, multiple 1).
Each client then repeats: put 3 of the 50 items (1-3 packs each) in the cart via /cart/add,
open /checkout and submit it (prepayment). Demand exceeds stock, so later checkouts are
refused with "not enough stock" (or their items can no longer be added). gunicorn runs
`-w 2 -k gthread --threads 8` so that 16 requests really are in PostgreSQL at the same time.
Afterwards: ordered packs per item must not exceed its initial stock, no stock is negative,
and stock left + ordered = initial stock.

Each client keeps its session's CSRF token (fetched once, as a browser keeps the page it adds
from) and submits the checkout page it opened: 5 requests per attempt (3 adds, the checkout
page, its POST). `--browse` adds what the first version of this bench also did: the cart page
before every add and the checkout page twice (9 requests per attempt). While the attempts run,
pg_stat_activity is sampled every 20 ms: how many of the database's sessions wait for a lock
(the stock rows of the contended items) — the lock waits, independent of the machine's load.
"""

import argparse
import random
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_common import (  # noqa: E402
    CSRF_RE,
    Client,
    connect,
    database_url,
    gunicorn,
    summary_ms,
)
from sqlalchemy import select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import OfferAcceptance, OfferVersion, User  # noqa: E402
from portal.catalog.models import Item  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.inventory.models import Stock  # noqa: E402
from portal.inventory.warehouses import serving_warehouse  # noqa: E402
from portal.organisations.models import ALL_POWERS, Membership, Organisation  # noqa: E402

PASSWORD = "Bench-checkout-2026"
IDEMPOTENCY = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')
ADDRESS = re.compile(r'<option[^>]*value="(\d+)"')


def prepare(clients: int, items: int, stock: int):
    """Buyers and contended items; returns (logins, {item_id: initial}, warehouse_id)."""
    app = create_app()
    with app.app_context():
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.inn == "7728168971")
        )
        warehouse = serving_warehouse(organisation)
        logins = []
        offers = db.session.scalars(select(OfferVersion)).all()
        for number in range(1, clients + 1):
            login = f"bench.checkout{number}"
            logins.append(login)
            if db.session.scalar(select(User.id).where(User.login == login)):
                continue
            user = User(login=login, email=f"{login}@example.org", full_name=f"Бенч {number}")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            membership = Membership(user=user, organisation=organisation)
            membership.powers = ALL_POWERS
            db.session.add(membership)
            for offer in offers:
                db.session.add(OfferAcceptance(user_id=user.id, offer_version_id=offer.id))
        contended = db.session.scalars(
            select(Item)
            .join(Stock, Stock.item_id == Item.id)
            .where(
                Stock.warehouse_id == warehouse.id,
                Item.is_active.is_(True),
                Item.min_quantity == 1,
                Item.order_multiple == 1,
            )
            .order_by(Item.id)
            .limit(items)
        ).all()
        for item in contended:
            row = db.session.scalar(
                select(Stock).where(Stock.item_id == item.id, Stock.warehouse_id == warehouse.id)
            )
            row.quantity = stock
        db.session.commit()
        return logins, {item.id: stock for item in contended}, warehouse.id


class LockWaits(threading.Thread):
    """Samples pg_stat_activity every 20 ms: the database's sessions waiting for a lock."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[int] = []
        self.running = True

    def run(self):
        with connect() as conn:
            conn.autocommit = True
            while self.running:
                self.samples.append(
                    conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    ).fetchone()[0]
                )
                time.sleep(0.02)

    def stop(self):
        self.running = False
        self.join()

    def summary(self) -> str:
        n = len(self.samples) or 1
        waiting = sum(1 for s in self.samples if s)
        return (
            f"lock waits: {waiting / n:.0%} of {len(self.samples)} samples had a session waiting "
            f"for a lock; mean {sum(self.samples) / n:.2f}, max {max(self.samples, default=0)} "
            "sessions waiting"
        )


def verify(initial: dict[int, int], warehouse_id: int, since_order_id: int):
    with connect() as conn:
        ordered = dict(
            conn.execute(
                "SELECT l.item_id, sum(l.quantity) FROM order_lines l"
                " JOIN orders o ON o.id = l.order_id"
                " WHERE o.id > %s AND o.status <> 'cancelled' AND l.item_id = ANY(%s)"
                " GROUP BY l.item_id",
                (since_order_id, list(initial)),
            ).fetchall()
        )
        left = dict(
            conn.execute(
                "SELECT item_id, quantity FROM catalog_stock"
                " WHERE warehouse_id = %s AND item_id = ANY(%s)",
                (warehouse_id, list(initial)),
            ).fetchall()
        )
    oversold = [i for i in initial if ordered.get(i, 0) > initial[i]]
    negative = [i for i in initial if left[i] < 0]
    unbalanced = [i for i in initial if left[i] + ordered.get(i, 0) != initial[i]]
    return ordered, left, oversold, negative, unbalanced


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--stock", type=int, default=20)
    parser.add_argument(
        "--browse", action="store_true", help="the cart page before each add, checkout page twice"
    )
    args = parser.parse_args()
    database_url()
    logins, initial, warehouse_id = prepare(args.clients, args.items, args.stock)
    with connect() as conn:
        since = conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    item_ids = sorted(initial)
    counter = iter(range(args.orders))
    lock = threading.Lock()
    results = {"placed": 0, "refused": 0, "empty": 0, "errors": 0}
    checkout_ms: list[float] = []

    with gunicorn(workers=2, threads=8) as port:
        sessions = [Client(port).login(login, PASSWORD) for login in logins]
        tokens = [client.csrf_token("/cart") for client in sessions]
        requests = [0]

        def work(index):
            client = sessions[index]
            generator = random.Random(index)
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                sent = 0
                for item_id in generator.sample(item_ids, 3):
                    token = client.csrf_token("/cart") if args.browse else tokens[index]
                    sent += 2 if args.browse else 1
                    client.post_form(
                        "/cart/add",
                        {
                            "csrf_token": token,
                            "item_id": item_id,
                            "quantity": generator.randint(1, 3),
                        },
                    )
                status, body = client.get("/checkout")
                sent += 1
                if status == 302:  # nothing could be added: the items are sold out
                    with lock:
                        results["empty"] += 1
                        requests[0] += sent
                    continue
                page = body.decode()
                if args.browse:
                    token = client.csrf_token("/checkout")
                    sent += 1
                else:
                    match = CSRF_RE.search(page)
                    token = match.group(1) or match.group(2)
                fields = {
                    "csrf_token": token,
                    "address_id": ADDRESS.search(page).group(1),
                    "payment_terms": "prepayment",
                    "comment": "",
                    "idempotency_key": IDEMPOTENCY.search(page).group(1),
                }
                began = time.perf_counter()
                status, body = client.post_form("/checkout", fields)
                elapsed = (time.perf_counter() - began) * 1000
                sent += 1
                with lock:
                    requests[0] += sent
                    checkout_ms.append(elapsed)
                    if status == 302 and "/orders/" in (client.last_location or ""):
                        results["placed"] += 1
                    elif status in (200, 422):  # a refused form answers 422
                        results["refused"] += 1
                    else:
                        results["errors"] += 1
                if status in (200, 422):
                    # Refused: the buyer empties the cart and tries again with other items.
                    if args.browse:
                        client.csrf_token("/cart")
                    status, cart = client.get("/cart")
                    removed = set(re.findall(r'name="remove" value="(\d+)"', cart.decode()))
                    for line_id in removed:
                        client.post_form(
                            "/cart/update", {"csrf_token": tokens[index], "remove": line_id}
                        )
                    with lock:
                        requests[0] += 1 + len(removed) + (1 if args.browse else 0)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
        waits = LockWaits()
        waits.start()
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        waits.stop()

    ordered, left, oversold, negative, unbalanced = verify(initial, warehouse_id, since)
    total_initial = sum(initial.values())
    print(
        f"{args.orders} checkout attempts by {args.clients} clients on {len(initial)} items x "
        f"{args.stock} packs (gunicorn -w 2 -k gthread --threads 8)"
    )
    print(
        f"placed {results['placed']}, refused at checkout {results['refused']}, "
        f"nothing left to add {results['empty']}, other errors {results['errors']}"
    )
    print(
        f"wall {wall:.1f} s (incl. filling carts): {results['placed'] / wall:.1f} orders/s, "
        f"{args.orders / wall:.1f} attempts/s"
    )
    print(f"checkout POST: {summary_ms(checkout_ms)}")
    print(
        f"requests {requests[0]} ({requests[0] / args.orders:.1f} per attempt, "
        f"{'--browse' if args.browse else 'no extra pages'}), {requests[0] / wall:.0f} req/s"
    )
    print(waits.summary())
    print(
        f"packs ordered {sum(ordered.values())} of {total_initial}; items oversold: "
        f"{len(oversold)}, negative stock: {len(negative)}, stock+ordered != initial: "
        f"{len(unbalanced)}"
    )
    print("ZERO OVERSELL" if not (oversold or negative or unbalanced) else "OVERSELL DETECTED")


if __name__ == "__main__":
    main()
