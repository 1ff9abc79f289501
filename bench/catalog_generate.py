"""Fill a PostgreSQL database with a realistic 50,000-item pharmacy catalogue for the benchmarks.

Run after `flask db upgrade` and `flask seed-demo` (which create the warehouses, price lists,
demo organisations and users):

    PORTAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_bench_catalog \
        .venv/bin/python bench/catalog_generate.py [--items 50000] [--seed 2026]

Items are built from the demo catalogue's molecules (МНН, category, Rx/vital/cold-chain flags,
VAT) under thousands of invented brand names, in several strengths, pack sizes and cartons, so
that searches hit a realistic mix of many-match and few-match words. Each item gets stock in the
central warehouse and usually in some regional ones, 1-3 batches per stock row, a base price,
a chain price for about half, and a few hundred promotions (running, future and finished).
Everything is written with COPY (the search index's pending list merged once at the end),
then ANALYZE, so it takes well under a minute.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from stdnum import ean

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.catalog.models import item_search_text  # noqa: E402
from portal.demo.catalog import MANUFACTURERS, MEDICINES  # noqa: E402

SKU_PREFIX = "B"  # the demo catalogue uses A/K; generated items never collide with it
EXTRA_MANUFACTURERS = {
    "Фармасинтез": "Россия",
    "Северная звезда": "Россия",
    "Канонфарма продакшн": "Россия",
    "Вертекс": "Россия",
    "Алиум": "Россия",
    "Медисорб": "Россия",
    "Акрихин": "Россия",
    "Полисан": "Россия",
    "Герофарм": "Россия",
    "Петровакс Фарм": "Россия",
    "Обновление": "Россия",
    "Нижфарм": "Россия",
    "Хемофарм": "Сербия",
    "Польфарма": "Польша",
    "Adamed": "Польша",
    "Зентива": "Чехия",
    "Egis": "Венгрия",
    "Pfizer": "США",
    "Abbott": "США",
    "Novartis": "Швейцария",
    "Servier": "Франция",
    "Ipsen": "Франция",
    "Menarini": "Италия",
    "Dr. Reddy's": "Индия",
    "Sun Pharma": "Индия",
    "Cipla": "Индия",
    "Микроген": "Россия",
    "Renewal": "Россия",
}
# Syllables of invented brand names; a table of text reads better than 100 quoted strings.
PREFIXES = (  # noqa: SIM905
    "Ам бе ви га де ди зо ка ке ко ла ле ли ло ма ме ми мо на не но па пе "
    "пи ра ре ри ро са се си со та те ти то фа фе фи фло хе це эр ю"
).split()
MIDDLES = "ба ва ви га да ди за зи ка ко ла ли ло ма ми на ни но ра ри ро са си та ти фи".split()  # noqa: SIM905
SUFFIXES = (  # noqa: SIM905
    "кс ксин фен ол ил ин ан он ат ем ид ит ор ум ус тон ран рил сан пам зол вир мед фарм "
    "стад тек лонг ретард форте нео"
).split()
PACKS = (10, 14, 20, 28, 30, 50, 60, 90, 100)
CARTON_MULTIPLES = (5, 10, 12, 20)
STORAGE_COLD = "При температуре от 2 до 8 °C, не замораживать"
STORAGE_ROOM = "При температуре не выше 25 °C, в защищённом от света месте"


def brand_names(generator: random.Random, count: int) -> list[str]:
    """Distinct invented trade names like «Ламиксин», «Соранил-Тек»."""
    names: set[str] = set()
    while len(names) < count:
        name = generator.choice(PREFIXES).capitalize()
        for _ in range(generator.choice((0, 1, 1, 2))):
            name += generator.choice(MIDDLES)
        name += generator.choice(SUFFIXES)
        if generator.random() < 0.12:
            name += "-" + generator.choice(("Тева", "Рихтер", "СЗ", "Акрихин", "Тек", "Авексима"))
        names.add(name)
    return sorted(names)


def barcode(number: int) -> str:
    body = f"4609{number:08d}"
    return body + ean.calc_check_digit(body)


def connect():
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set PORTAL_DATABASE_URL to the PostgreSQL benchmark database.")
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def lookup(cur, table, key="name"):
    cur.execute(f"SELECT {key}, id FROM {table}")  # noqa: S608 - fixed table names
    return dict(cur.fetchall())


def ensure_names(cur, table, names: dict[str, str | None], with_country: bool):
    known = lookup(cur, table)
    for name, country in names.items():
        if name in known:
            continue
        if with_country:
            cur.execute(
                f"INSERT INTO {table} (name, country) VALUES (%s, %s) RETURNING id",  # noqa: S608
                (name, country),
            )
        else:
            cur.execute(f"INSERT INTO {table} (name) VALUES (%s) RETURNING id", (name,))  # noqa: S608
        known[name] = cur.fetchone()[0]
    return known


SEARCH_INDEX = "ix_catalog_items_search_trgm"


def generate(count: int, seed: int) -> None:
    generator = random.Random(seed)
    started = time.perf_counter()
    today = date.today()
    now = datetime.now(UTC)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_items WHERE sku LIKE %s", (SKU_PREFIX + "%",))
        if cur.fetchone()[0]:
            sys.exit("Generated items are already there; use a fresh database.")
        cur.execute("SELECT id, code FROM catalog_warehouses ORDER BY id")
        warehouses = cur.fetchall()
        cur.execute("SELECT code, id FROM catalog_price_lists")
        price_lists = dict(cur.fetchall())
        if not warehouses or "BASE" not in price_lists:
            sys.exit("Run `flask seed-demo` first: warehouses and price lists are missing.")
        makers = ensure_names(
            cur, "catalog_manufacturers", {**MANUFACTURERS, **EXTRA_MANUFACTURERS}, True
        )
        maker_names = sorted(makers)
        categories = ensure_names(cur, "catalog_categories", {m[2]: None for m in MEDICINES}, False)

        # --- items --------------------------------------------------------------------------
        # The trigram index is written directly in normal use (fastupdate off, migration
        # 0013); for this bulk load it collects entries in its pending list and merges them
        # once at the end (57 s -> 23 s for 50,000 items).
        cur.execute(f"ALTER INDEX {SEARCH_INDEX} SET (fastupdate = on)")
        brands = brand_names(generator, count // 6 + 1)
        item_rows = []  # (sku, barcode, cold, multiple) kept for stock and prices
        with cur.copy(
            "COPY catalog_items (sku, trade_name, generic_name, dosage_form, strength, pack_size,"
            " manufacturer_id, category_id, barcode, is_rx, is_vital, storage_conditions,"
            " is_cold_chain, vat_category, description, min_quantity, order_multiple, is_active,"
            " search_text, created_at, updated_at) FROM STDIN"
        ) as copy:
            number = 0
            for brand in brands:
                trade, generic, category, _maker, variants, rx, vital, cold, vat = generator.choice(
                    MEDICINES
                )
                maker = generator.choice(maker_names)
                for _ in range(generator.randint(3, 9)):
                    if number >= count:
                        break
                    number += 1
                    form, strength, pack = generator.choice(variants)
                    if pack > 1:
                        pack = generator.choice(PACKS)
                    carton = generator.random() < 0.3
                    multiple = generator.choice(CARTON_MULTIPLES) if carton else 1
                    sku = f"{SKU_PREFIX}{number:06d}"
                    code = barcode(number)
                    description = (
                        f"{brand} ({generic or 'медицинское изделие'}), {form}"
                        f"{', ' + strength if strength else ''}, №{pack}. "
                        + ("Отпускается по рецепту. " if rx else "Безрецептурный отпуск. ")
                        + ("Входит в перечень ЖНВЛП. " if vital else "")
                        + f"Аналог: {trade}."
                    )
                    copy.write_row(
                        (
                            sku,
                            brand,
                            generic or None,
                            form,
                            strength or None,
                            pack,
                            makers[maker],
                            categories[category],
                            code,
                            rx,
                            vital,
                            STORAGE_COLD if cold else STORAGE_ROOM,
                            cold,
                            str(vat),
                            description,
                            multiple,
                            multiple,
                            generator.random() > 0.01,  # a few discontinued items
                            item_search_text(brand, generic, form, strength, maker, sku, code),
                            (created := now - timedelta(days=generator.randint(0, 1500))),
                            created,
                        )
                    )
                    item_rows.append((sku, cold, multiple))
        cur.execute("SELECT sku, id FROM catalog_items WHERE sku LIKE %s", (SKU_PREFIX + "%",))
        ids = dict(cur.fetchall())
        print(f"items: {len(item_rows)} in {time.perf_counter() - started:.1f} s")

        # --- prices, stock, batches, promotions -----------------------------------------------
        base_id, chain_id = price_lists["BASE"], price_lists.get("CHAIN")
        prices, stock, batches = [], [], []
        for sku, cold, multiple in item_rows:
            item_id = ids[sku]
            anchor = generator.randint(700, 4500) if cold else generator.randint(40, 1500)
            price = Decimal(anchor) + Decimal(generator.randint(0, 99)) / 100
            prices.append((base_id, item_id, price))
            if chain_id and generator.random() < 0.5:
                prices.append(
                    (chain_id, item_id, (price * Decimal("0.93")).quantize(Decimal("0.01")))
                )
            for warehouse_id, code in warehouses:
                if code != "MSK" and generator.random() < 0.4:
                    continue
                quantity = generator.choice((0, 3, 12, 40, 120, 300, 800, 2000))
                quantity -= quantity % multiple
                stock.append((item_id, warehouse_id, quantity))
                remaining = quantity
                for index in range(generator.randint(1, 3)):
                    if remaining <= 0:
                        break
                    part = remaining if index == 2 else max(remaining // 2, 1)
                    batches.append(
                        (
                            item_id,
                            warehouse_id,
                            f"{generator.randint(100000, 999999)}{chr(0x410 + index)}",
                            today + timedelta(days=generator.randint(30, 1100)),
                            part,
                        )
                    )
                    remaining -= part
        promotions = []
        for index, item_id in enumerate(generator.sample(sorted(ids.values()), 300)):
            # Mostly running; some upcoming and some finished, which must not apply.
            offset = (-5, -5, -5, -20, 10, -60)[index % 6]
            starts = today + timedelta(days=offset)
            promotions.append(
                (
                    item_id,
                    "Скидка месяца",
                    Decimal(generator.choice((5, 7, 10, 15, 20))),
                    starts,
                    starts + timedelta(days=30),
                )
            )
        for sql, rows in (
            ("COPY catalog_item_prices (price_list_id, item_id, price) FROM STDIN", prices),
            ("COPY catalog_stock (item_id, warehouse_id, quantity) FROM STDIN", stock),
            (
                "COPY catalog_batches (item_id, warehouse_id, series, expires_on, quantity)"
                " FROM STDIN",
                batches,
            ),
            (
                "COPY catalog_promotions (item_id, title, discount_percent, starts_on, ends_on)"
                " FROM STDIN",
                promotions,
            ),
        ):
            with cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        print(
            f"prices: {len(prices)}, stock rows: {len(stock)}, batches: {len(batches)}, "
            f"promotions: {len(promotions)}"
        )
    # COPY went around the ORM, which keeps the typo-search word list: rebuild it.
    from portal import create_app
    from portal.catalog.words import rebuild_search_words
    from portal.extensions import db

    with create_app().app_context():
        print(f"search words: {rebuild_search_words()}")
        db.session.commit()
    # ANALYZE outside the transaction so the planner sees the real table sizes at once.
    with connect() as conn:
        conn.autocommit = True
        conn.execute(f"SELECT gin_clean_pending_list('{SEARCH_INDEX}'::regclass)")
        conn.execute(f"ALTER INDEX {SEARCH_INDEX} SET (fastupdate = off)")
        conn.execute("ANALYZE")
    print(f"done in {time.perf_counter() - started:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    generate(args.items, args.seed)


if __name__ == "__main__":
    main()
