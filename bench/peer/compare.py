"""The portal beside django-oscar 4 on the same 50,000 items, in ONE alternating run.

    make bench-peer                      (sets everything up once, then runs this)
    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/peer_portal \
        .venv/bin/python bench/peer/compare.py [--seconds 20] [--rounds 4] [--clients 4]

Two gunicorns with the same options (`-w 2`, sync workers, the same access-log format, the same
gunicorn release): the portal (`wsgi:app`, database `peer_portal`, a copy of `perf`) and a
minimal Oscar shop (bench/peer/oscar_site, database `peer_oscar`, its own virtual environment
bench/peer/.venv) holding the same items (bench/peer/load_items.py: same ids, names, prices
the demo buyer sees, stock of its warehouse). The same client (bench/catalog_common.py: N
keep-alive HTTP/1.1 connections, one signed-in customer each) sends, on both sides:

- search: the same distinct searches (bench/search_mix.py's realistic mix without filters:
  names, prefixes, МНН, name + strength, barcodes, SKUs, makers, typos), each once per side;
  portal `/catalog/?q=`, Oscar `/search/?q=` (haystack + Whoosh);
- listing: a category's pages 1-10; portal `/catalog/?category=`, Oscar
  `/catalogue/category/<slug>_<id>/` (repeated pages: whatever caching each side has counts);
- product: the same item's page; portal `/catalog/items/<id>`, Oscar `/catalogue/<slug>_<id>/`;
- basket: add one pack of an item (a form POST with its CSRF token, answered by a redirect,
  not followed); portal `/cart/add`, Oscar `/basket/add/<id>/`; each customer cycles through
  its own 10 items, so a basket holds 10 lines.

Each kind runs in --rounds short rounds, the two sides taking turns (portal first in even
rounds, Oscar first in odd ones) so that a drifting machine slows both alike. Reported per
kind and side: req/s, client p50/p95 (around each request), server p50/p95 (gunicorn's %(D)s
inside the worker), non-2xx/3xx answers, and the ratios portal / Oscar; the load average.
"""

import argparse
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
os.environ.setdefault(
    "PORTAL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/peer_portal"
)

from catalog_common import Client, connect, free_port, percentile  # noqa: E402
from search_mix import realistic_mix  # noqa: E402

OSCAR_DATABASE = os.environ.get("PEER_OSCAR_DATABASE", "peer_oscar")
PASSWORD = "demo-portal-2026"  # the Oscar customers' (load_items.py)
PORTAL_PASSWORD = "Bench-peer-2026"
LOG_FORMAT = "%(m)s %(U)s?%(q)s %(s)s %(D)s"
DJANGO_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KINDS = ("search", "listing", "product", "basket")


def oscar_connect():
    import psycopg

    return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{OSCAR_DATABASE}")


@contextmanager
def serve(binary, app, cwd, access_log, env, ready, workers):
    """gunicorn -w N (sync) with the access-log format both sides share; yields the port.

    The app's own output (the portal logs every request on stderr) goes to a file beside the
    access log; its last lines are shown if the server does not start."""
    port = free_port()
    errors = access_log.with_suffix(".err")
    command = [
        str(binary),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        LOG_FORMAT,
        app,
    ]
    with errors.open("w") as sink:
        server = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(port).get(ready)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("\n".join(errors.read_text().splitlines()[-30:]), file=sys.stderr)
                raise RuntimeError(f"gunicorn {app} did not start")
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def portal_customers(count: int) -> list[str]:
    """Buyers of the demo pharmacy with every power and the offers accepted; carts emptied."""
    logins = [f"peer.bench{number}" for number in range(1, count + 1)]
    with connect() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM users WHERE login = ANY(%s)", (logins,))]
        if len(ids) == count:  # made by an earlier run: only the carts are emptied
            conn.execute("DELETE FROM cart_lines WHERE user_id = ANY(%s)", (ids,))
            return logins
    from sqlalchemy import delete, select

    from portal import create_app
    from portal.accounts.models import OfferAcceptance, OfferVersion, User
    from portal.extensions import db
    from portal.orders.models import CartLine
    from portal.organisations.models import ALL_POWERS, Membership, Organisation

    app = create_app()
    logins = []
    with app.app_context():
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.inn == "7728168971")
        )
        offers = db.session.scalars(select(OfferVersion)).all()
        for number in range(1, count + 1):
            login = f"peer.bench{number}"
            logins.append(login)
            user_id = db.session.scalar(select(User.id).where(User.login == login))
            if user_id:
                db.session.execute(delete(CartLine).where(CartLine.user_id == user_id))
                continue
            user = User(login=login, email=f"{login}@example.org", full_name=f"Бенч {number}")
            user.set_password(PORTAL_PASSWORD)
            db.session.add(user)
            db.session.flush()
            membership = Membership(user=user, organisation=organisation)
            membership.powers = ALL_POWERS
            db.session.add(membership)
            for offer in offers:
                db.session.add(OfferAcceptance(user_id=user.id, offer_version_id=offer.id))
        db.session.commit()
    return logins


def oscar_customers(count: int) -> list[str]:
    """The Oscar customers made by load_items.py, their baskets emptied."""
    emails = [f"peer{number}@example.org" for number in range(1, count + 1)]
    with oscar_connect() as conn:
        found = conn.execute(
            "SELECT count(*) FROM auth_user WHERE email = ANY(%s)", (emails,)
        ).fetchone()[0]
        if found != count:
            sys.exit(f"Run bench/peer/load_items.py --users {count} first.")
        conn.execute(
            "DELETE FROM basket_line WHERE basket_id IN (SELECT b.id FROM basket_basket b"
            " JOIN auth_user u ON u.id = b.owner_id WHERE u.email = ANY(%s))",
            (emails,),
        )
        conn.execute(
            "DELETE FROM basket_basket WHERE owner_id IN"
            " (SELECT id FROM auth_user WHERE email = ANY(%s))",
            (emails,),
        )
    return emails


def oscar_login(port: int, email: str) -> Client:
    client = Client(port)
    status, body = client.get("/accounts/login/")
    token = DJANGO_CSRF.search(body.decode()).group(1)
    status, _ = client.post_form(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": token,
            "login-username": email,
            "login-password": PASSWORD,
            "login_submit": "Войти",
            "login-redirect_url": "",
        },
    )
    if status != 302:
        raise RuntimeError(f"Oscar login as {email} failed (HTTP {status})")
    return client


class Side:
    """One system's paths for each kind and its signed-in clients."""

    def __init__(self, name, clients, paths, basket_post):
        self.name, self.clients, self.paths, self.basket_post = name, clients, paths, basket_post
        self.done = {kind: [] for kind in KINDS}  # (client ms, status)
        self.seconds = dict.fromkeys(KINDS, 0.0)
        self.rates = {kind: [] for kind in KINDS}
        self.positions = {kind: [0] * len(clients) for kind in KINDS}

    def run(self, kind, seconds):
        clients = self.clients
        results = [[] for _ in clients]
        stop = time.perf_counter() + seconds
        gate = threading.Barrier(len(clients) + 1)

        def work(index):
            client = clients[index]
            own = self.paths[kind][index]
            position = self.positions[kind][index]
            gate.wait()
            while time.perf_counter() < stop:
                target = own[position % len(own)]
                position += 1
                began = time.perf_counter()
                if kind == "basket":
                    status = self.basket_post(client, index, target)
                else:
                    status = client.get(target)[0]
                results[index].append(((time.perf_counter() - began) * 1000, status))
            self.positions[kind][index] = position

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        gate.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        done = [entry for per_client in results for entry in per_client]
        self.done[kind] += done
        self.seconds[kind] += elapsed
        self.rates[kind].append(len(done) / elapsed)

    def rate(self, kind):
        return len(self.done[kind]) / self.seconds[kind] if self.seconds[kind] else 0.0


def server_times(log: Path, patterns: dict) -> dict:
    """Server ms per kind from an access log ("METHOD PATH?QUERY STATUS MICROSECONDS")."""
    times = {kind: [] for kind in patterns}
    for line in log.read_text().splitlines():
        parts = line.split(" ")
        if len(parts) != 4:
            continue
        request = f"{parts[0]} {parts[1]}"
        for kind, pattern in patterns.items():
            if pattern.match(request):
                times[kind].append(int(parts[3]) / 1000)
                break
    return times


STARTED = time.monotonic()


def step(message):
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def split(paths, clients):
    """Each client its own share (no path sent twice by a side until a share is used up)."""
    return [paths[index::clients] for index in range(clients)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="per kind and side, all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queries", type=int, default=4000, help="distinct searches")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    load_before = os.getloadavg()
    generator = random.Random(args.seed)

    # The same work for both sides: searches, category pages, items, basket items.
    mix = [a["q"] for _k, a in realistic_mix(args.queries * 2, args.seed) if set(a) == {"q"}]
    mix = list(dict.fromkeys(mix))[: args.queries]
    warm_queries = [a["q"] for _k, a in realistic_mix(60, args.seed + 1)]
    with connect() as conn:
        items = [
            row[0]
            for row in conn.execute(
                "SELECT i.id FROM catalog_items i JOIN catalog_stock s ON s.item_id = i.id"
                " AND s.warehouse_id = 1 WHERE i.is_active AND i.min_quantity = 1"
                " AND i.order_multiple = 1 AND s.quantity >= 300 AND i.is_rx IS FALSE"
                " ORDER BY md5(i.id::text || %s) LIMIT 3000",
                (str(args.seed),),
            ).fetchall()
        ]
    with oscar_connect() as conn:
        slug = dict(
            conn.execute(
                "SELECT id, slug FROM catalogue_product WHERE id = ANY(%s)", (items,)
            ).fetchall()
        )
        oscar_categories = conn.execute(
            "SELECT id, slug, name FROM catalogue_category ORDER BY id"
        ).fetchall()
    with connect() as conn:
        portal_category_names = dict(
            conn.execute("SELECT name, id FROM catalog_categories").fetchall()
        )
    listing_pairs = []  # (portal category id, oscar category path)
    for oscar_id, oscar_slug, name in oscar_categories:
        if name in portal_category_names:
            listing_pairs.append(
                (portal_category_names[name], f"/catalogue/category/{oscar_slug}_{oscar_id}/")
            )
    listings = [(pair, page) for pair in listing_pairs for page in range(1, 11)]
    generator.shuffle(listings)
    product_ids = [i for i in items if i in slug][:2000]
    basket_ids = product_ids[-10 * args.clients :]
    product_ids = product_ids[: -10 * args.clients]

    portal_paths = {
        "search": split([f"/catalog/?{urllib.parse.urlencode({'q': q})}" for q in mix], 1),
        "listing": [
            f"/catalog/?category={pair[0]}" + (f"&page={page}" if page > 1 else "")
            for pair, page in listings
        ],
        "product": [f"/catalog/items/{i}" for i in product_ids],
    }
    oscar_paths = {
        "search": split([f"/search/?{urllib.parse.urlencode({'q': q})}" for q in mix], 1),
        "listing": [pair[1] + (f"?page={page}" if page > 1 else "") for pair, page in listings],
        "product": [f"/catalogue/{slug[i]}_{i}/" for i in product_ids],
    }
    for paths in (portal_paths, oscar_paths):
        paths["search"] = split(paths["search"][0], args.clients)
        for kind in ("listing", "product"):
            shares = []
            for index in range(args.clients):
                own = paths[kind][:]
                random.Random(index).shuffle(own)
                shares.append(own)
            paths[kind] = shares
        paths["basket"] = [basket_ids[i * 10 : (i + 1) * 10] for i in range(args.clients)]

    step("work drawn from the databases")
    portal_logins = portal_customers(args.clients)
    oscar_emails = oscar_customers(args.clients)

    with tempfile.TemporaryDirectory() as scratch:
        portal_log, oscar_log = Path(scratch) / "portal.log", Path(scratch) / "oscar.log"
        portal_env = {
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
            "PORTAL_CACHE_KEY_PREFIX": f"bench-{secrets.token_hex(4)}:",
            "PORTAL_RATELIMIT_LOGIN": "100000 per minute",
        }
        with (
            serve(
                ROOT / ".venv/bin/gunicorn", "wsgi:app", ROOT, portal_log, portal_env,
                "/healthz", args.workers,
            ) as portal_port,
            serve(
                HERE / ".venv/bin/gunicorn", "oscar_site.wsgi:application", HERE, oscar_log,
                {"DJANGO_SETTINGS_MODULE": "oscar_site.settings"}, "/accounts/login/",
                args.workers,
            ) as oscar_port,
        ):  # fmt: skip
            step("both servers up")
            with ThreadPoolExecutor(max_workers=args.clients) as pool:  # password hashing
                portal_clients = list(
                    pool.map(
                        lambda login: Client(portal_port).login(login, PORTAL_PASSWORD),
                        portal_logins,
                    )
                )
                oscar_clients = list(
                    pool.map(lambda email: oscar_login(oscar_port, email), oscar_emails)
                )
            portal_tokens = [c.csrf_token("/cart") for c in portal_clients]
            oscar_tokens = []
            for client in oscar_clients:
                status, body = client.get(oscar_paths["product"][0][0])
                assert status == 200, status
                oscar_tokens.append(DJANGO_CSRF.search(body.decode()).group(1))

            def portal_add(client, index, item_id):
                fields = {"csrf_token": portal_tokens[index], "item_id": item_id, "quantity": 1}
                return client.post_form("/cart/add", fields)[0]

            def oscar_add(client, index, item_id):
                fields = {"csrfmiddlewaretoken": oscar_tokens[index], "quantity": 1}
                return client.post_form(f"/basket/add/{item_id}/", fields)[0]

            portal = Side("portal", portal_clients, portal_paths, portal_add)
            oscar = Side("oscar", oscar_clients, oscar_paths, oscar_add)
            step("customers signed in")

            # Warm-up: each client opens a search (not in the measured mix), a listing and an
            # item page on both sides; not counted.
            def warm(side, prefix, index):
                client = side.clients[index]
                for q in warm_queries[index : index + 1]:
                    client.get(prefix + urllib.parse.urlencode({"q": q}))
                for kind in ("listing", "product"):
                    client.get(side.paths[kind][index][-1])

            with ThreadPoolExecutor(max_workers=2 * args.clients) as pool:
                for side, prefix in ((portal, "/catalog/?"), (oscar, "/search/?")):
                    for index in range(args.clients):
                        pool.submit(warm, side, prefix, index)
            time.sleep(0.3)
            portal_log.write_text("")
            oscar_log.write_text("")
            step("warmed up; measuring")
            share = args.seconds / args.rounds
            for number in range(args.rounds):
                for kind in kinds:
                    order = (portal, oscar) if number % 2 == 0 else (oscar, portal)
                    for side in order:
                        side.run(kind, share)
            time.sleep(0.5)
            load_after = os.getloadavg()
        portal_server = server_times(
            portal_log,
            {
                "search": re.compile(r"GET /catalog/\?q="),
                "listing": re.compile(r"GET /catalog/\?category="),
                "product": re.compile(r"GET /catalog/items/"),
                "basket": re.compile(r"POST /cart/add"),
            },
        )
        oscar_server = server_times(
            oscar_log,
            {
                "search": re.compile(r"GET /search/\?"),
                "listing": re.compile(r"GET /catalogue/category/"),
                "product": re.compile(r"GET /catalogue/"),
                "basket": re.compile(r"POST /basket/add/"),
            },
        )
    report(args, kinds, portal, oscar, portal_server, oscar_server, load_before, load_after, mix)


def report(args, kinds, portal, oscar, portal_server, oscar_server, load_before, load_after, mix):
    def p(values, share):
        return percentile(values, share) if values else float("nan")

    print(
        f"gunicorn -w {args.workers} (sync) x2 apps, {args.clients} keep-alive clients (one "
        f"signed-in customer each), {args.seconds:.0f} s per kind and side in {args.rounds} "
        f"alternating rounds; {len(mix)} distinct searches"
    )
    print(
        f"load average (1/5/15 min) before {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    header = (
        f"{'kind':8s} {'side':7s} {'req/s':>7s} {'client p50':>10s} {'p95':>7s} "
        f"{'server p50':>10s} {'p95':>7s} {'n':>6s} {'bad':>4s}"
    )
    print(header)
    ok = {"basket": (302, 303)}
    summary = []
    for kind in kinds:
        for side, server in ((portal, portal_server), (oscar, oscar_server)):
            client_ms = [ms for ms, _s in side.done[kind]]
            bad = sum(1 for _ms, s in side.done[kind] if s not in ok.get(kind, (200,)))
            print(
                f"{kind:8s} {side.name:7s} {side.rate(kind):7.1f} {p(client_ms, 0.5):10.1f} "
                f"{p(client_ms, 0.95):7.1f} {p(server[kind], 0.5):10.1f} "
                f"{p(server[kind], 0.95):7.1f} {len(client_ms):6d} {bad:4d}"
            )
        rounds = " ".join(
            f"{a / b:.2f}" for a, b in zip(portal.rates[kind], oscar.rates[kind], strict=True)
        )
        portal_p50 = p(portal_server[kind], 0.5)
        oscar_p50 = p(oscar_server[kind], 0.5)
        summary.append(
            f"{kind:8s} throughput portal/oscar {portal.rate(kind) / oscar.rate(kind):5.2f}x"
            f" (rounds: {rounds});  server p50 portal/oscar {portal_p50 / oscar_p50:5.2f}"
        )
    for side in (portal, oscar):
        if "search" in kinds:
            repeated = sum(
                max(0, sent - len(own))
                for sent, own in zip(side.positions["search"], side.paths["search"], strict=True)
            )
            print(f"searches repeated by the {side.name}: {repeated}")
    print("ratios (>1 throughput: the portal serves more; <1 p50: the portal answers faster):")
    for line in summary:
        print("  " + line)


if __name__ == "__main__":
    main()
