"""Demo data for development and screenshots (`flask seed-demo`), in one package.

`foundation` makes the people and organisations every other part needs; each domain's demo
then runs in SEEDERS order, through the domain's own services (the demo proves the real
paths). The medicine list and the stock are data files in `data/`, loaded by the staff
catalogue import. Demo accounts exist only in development databases: `seed-demo` refuses to
run with PORTAL_ENV=production.
"""

import importlib

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - a published demo password, not a secret
DEMO_ACCOUNTS = [
    ("buyer", "Pharmacy buyer (all powers)"),
    ("buyer.limited", "Pharmacy colleague (catalogue and prices only)"),
    ("gas", "Gas customer (all powers)"),
    ("manager", "Account manager"),
    ("admin", "Administrator"),
]
# "module:function" under portal.demo, run in this order in one transaction.
SEEDERS = [
    "foundation:seed",
    "billing:seed",
    "catalog:seed",
    "orders:seed",
    "pharmacy:seed",  # an order shipped with series, one of them recalled
    "metering:seed",
    "gas_plans:seed",  # the plant's planned volumes (after its readings)
    "billing:issue_gas_documents",  # the gas months' УПД (also of an older demo)
    "documents:seed",
    "tickets:seed",
    "billing:send_reminders",  # last: reminds of the demo documents now overdue
]


def seed_all() -> None:
    """Every part of the demo, in order (idempotent; the caller commits)."""
    for path in SEEDERS:
        module, _, function = path.partition(":")
        getattr(importlib.import_module(f"{__name__}.{module}"), function)()
