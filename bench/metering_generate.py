"""Fill a PostgreSQL database with gas customers for the metering benchmarks.

    PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/metering_bench \
        .venv/bin/python bench/metering_generate.py --meters 10000 --months 100

With `--big-customers 20`, 20 customers have 200 meters and the remaining meters belong to
customers of 1-5 meters (the submission load). Otherwise every customer has 200 meters.
Each customer has one contract and one user `bench-gas-<n>` with the demo
password, and `--months` monthly readings per meter ending last month: 10,000 × 100 =
1,000,000 readings, written with COPY. Run `flask db upgrade` on the database first.
"""

import argparse
import random
import time
from decimal import Decimal

from sqlalchemy import select, text
from stdnum.ru import inn as inn_number

from portal import create_app
from portal.accounts.models import OfferAcceptance, OfferVersion, User
from portal.clock import local_today, month_start
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.metering.window import previous_month
from portal.organisations.models import Membership, Organisation

METERS_PER_CUSTOMER = 200


def valid_inn(n: int) -> str:
    body = f"52{n:07d}"
    return body + inn_number.calc_company_check_digit(body)


def months_ending_last_month(count):
    period = month_start(local_today())
    months = []
    for _ in range(count):
        period = previous_month(period)
        months.append(period)
    return list(reversed(months))


def copy_rows(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def customer_sizes(meters_total, big_customers, rng):
    """Meters per customer: `big_customers` of 200, the rest of the meters in customers of 1-5."""
    if big_customers is None:
        return [METERS_PER_CUSTOMER] * (meters_total // METERS_PER_CUSTOMER)
    sizes = [METERS_PER_CUSTOMER] * big_customers
    left = meters_total - sum(sizes)
    while left > 0:
        size = min(left, rng.randint(1, 5))
        sizes.append(size)
        left -= size
    return sizes


def generate(meters_total, months_count, big_customers=None):
    rng = random.Random(42)  # noqa: S311 - reproducible benchmark data
    sizes = customer_sizes(meters_total, big_customers, rng)
    customers = len(sizes)
    months = months_ending_last_month(months_count)
    started = time.perf_counter()
    hashed = User(login="x")
    hashed.set_password(DEMO_PASSWORD)
    base = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM organisations")) + 1
    organisations, users = [], []
    for n in range(customers):
        organisation = Organisation(
            legal_name=f'АО "Бенч-Газ {n}"', inn=valid_inn(5_000_000 + base + n), kind="gas"
        )
        user = User(
            login=f"bench-gas-{base + n}",
            email=f"bench-gas-{base + n}@bench.example",
            full_name=f"Бенч {n}",
            password_hash=hashed.password_hash,
        )
        organisations.append(organisation)
        users.append(user)
    db.session.add_all(organisations + users)
    db.session.flush()
    for organisation, user in zip(organisations, users, strict=True):
        membership = Membership(user=user, organisation=organisation)
        membership.powers = {"submit_readings", "view_finance"}
        db.session.add(membership)
        for offer in db.session.scalars(select(OfferVersion)):
            db.session.add(OfferAcceptance(user_id=user.id, offer_version_id=offer.id))
    db.session.flush()
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        first_contract = cursor.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM gas_contracts"
        ).fetchone()[0]
        first_meter = cursor.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM metering_points"
        ).fetchone()[0]
        now = "2026-01-01 00:00:00+00"
        copy_rows(
            cursor,
            "gas_contracts",
            ("id", "organisation_id", "number", "start_date", "created_at"),
            (
                (first_contract + i, o.id, f"BENCH-{o.id}", months[0], now)
                for i, o in enumerate(organisations)
            ),
        )
        copy_rows(
            cursor,
            "gas_tariffs",
            ("contract_id", "valid_from", "price_per_thousand", "vat_category", "created_at"),
            ((first_contract + i, months[0], "8000.00", "general", now) for i in range(customers)),
        )
        meter_rows = []
        meter_id = first_meter - 1
        for i, organisation in enumerate(organisations):
            for k in range(sizes[i]):
                meter_id += 1
                meter_rows.append(
                    (
                        meter_id,
                        organisation.id,
                        first_contract + i,
                        f"Цех {k}",
                        f"B{meter_id:09d}",
                        "СГ-16МТ-100",
                        9,
                        "100",
                        True,
                        now,
                    )
                )
        copy_rows(
            cursor,
            "metering_points",
            (
                "id",
                "organisation_id",
                "contract_id",
                "address",
                "serial_number",
                "model",
                "digits",
                "max_flow",
                "is_active",
                "created_at",
            ),
            meter_rows,
        )
        # Ids were given explicitly to COPY: move the sequences past them.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('gas_contracts', 'id'), "
            "(SELECT max(id) FROM gas_contracts))"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('metering_points', 'id'), "
            "(SELECT max(id) FROM metering_points))"
        )

        def readings():
            for meter_id, organisation_id, *_rest in meter_rows:
                value = Decimal(rng.randint(1000, 90000))
                for index, period in enumerate(months):
                    consumption = Decimal(rng.randint(2000, 9000))
                    value += consumption
                    yield (
                        organisation_id,
                        meter_id,
                        period,
                        period.replace(day=22),
                        value,
                        consumption if index else None,
                        False,
                        "form",
                        False,
                        False,
                        now,
                        now,
                    )

        copy_rows(
            cursor,
            "gas_readings",
            (
                "organisation_id",
                "metering_point_id",
                "period",
                "reading_date",
                "value",
                "consumption",
                "rolled_over",
                "source",
                "is_late",
                "needs_review",
                "created_at",
                "updated_at",
            ),
            readings(),
        )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    elapsed = time.perf_counter() - started
    print(
        f"customers={customers} meters={sum(sizes)} "
        f"readings={sum(sizes) * months_count} in {elapsed:.1f}s"
    )
    print(f"first customer login: bench-gas-{base} / {DEMO_PASSWORD}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=100)
    parser.add_argument(
        "--big-customers",
        type=int,
        default=None,
        help="customers of 200 meters; the other meters go to customers of 1-5 meters "
        "(default: every customer has 200 meters)",
    )
    arguments = parser.parse_args()
    app = create_app()
    with app.app_context():
        generate(arguments.meters, arguments.months, arguments.big_customers)
