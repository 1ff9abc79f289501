"""A 1,000-line reconciliation statement: PDF vs WeasyPrint on the bare table, and XLSX.

    .venv/bin/python bench/statements_render.py [--lines 1000] [--repeat 3]
    .venv/bin/python bench/statements_render.py --contract-years 10 [--repeat 3]

The second form builds one gas contract with N years of monthly charges and monthly payments
naming the contract (allocated as the portal allocates them), then times the per-contract act
for its last year (the opening balance comes from the years before) and for the longest period
a statement may cover (five years).

Builds the statement from a real (throwaway SQLite) ledger through the same services the worker
uses, then times, in the same run: the statement PDF, WeasyPrint rendering only the same table
with the same stylesheet, and the XLSX. Prints median/min/max and peak memory; asserts nothing.
"""

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask import render_template_string

from portal import create_app
from portal.billing import rendering
from portal.billing.ledger import post_charge, post_payment
from portal.billing.statements import build_statement
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.reports.pdf import html_to_pdf

# The act's own table and stylesheet, without the title, sentences, signatures and requisites.
TABLE_ONLY = """{% extends "billing/statement_pdf.html" %}
{% block body %}{% include "billing/_act_table.html" %}{% endblock %}"""


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def describe(name, times):
    return (
        f"{name:<28} median {statistics.median(times):7.3f} s   "
        f"min {min(times):7.3f} s   max {max(times):7.3f} s"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--contract-years", type=int, default=0)
    args = parser.parse_args()
    if args.contract_years:
        return contract_bench(args.contract_years, args.repeat)
    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench",
            "REPORT_DIR": str(workdir),
        }
    )
    with app.test_request_context():
        db.create_all()
        organisation = Organisation(legal_name='ООО "Бенчмарк"', inn="7707083893", kind="pharmacy")
        db.session.add(organisation)
        db.session.flush()
        start = date(2026, 1, 1)
        for n in range(args.lines):
            day = start + timedelta(days=n % 360)
            if n % 3 == 2:
                post_payment(
                    organisation.id,
                    1000 + n,
                    entry_date=day,
                    description="Оплата",
                    document_number=f"ПП-{n:05d}",
                )
            else:
                post_charge(
                    organisation.id,
                    Decimal(1500) + Decimal(n) * Decimal("1.25"),
                    entry_date=day,
                    description="Отгрузка товара по заказу",
                    document_number=f"УПД-{n:05d}",
                )
        db.session.commit()

        build_times, statement = timed(
            lambda: build_statement(organisation.id, start, date(2026, 12, 31)), args.repeat
        )
        assert len(statement.lines) == args.lines
        # Warm-up (fonts, template compilation) so neither side pays it in the timings.
        rendering.statement_pdf(statement)
        pdf_times, pdf = [], None
        table_times = []
        for _ in range(args.repeat):  # interleaved so machine noise hits both equally
            started = time.perf_counter()
            pdf = rendering.statement_pdf(statement)
            pdf_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            html_to_pdf(
                render_template_string(
                    TABLE_ONLY,
                    s=statement,
                    amount=rendering.amount,
                    rows=rendering.act_rows(statement),
                )
            )
            table_times.append(time.perf_counter() - started)
        # Memory is measured in a separate run: tracing slows WeasyPrint down several times.
        tracemalloc.start()
        rendering.statement_pdf(statement)
        _, pdf_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        xlsx_times, xlsx = timed(lambda: rendering.statement_xlsx(statement), args.repeat)
        _, xlsx_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    ratio = statistics.median(pdf_times) / statistics.median(table_times)
    print(f"{args.lines} ledger lines, {args.repeat} runs each (same process, interleaved)")
    print(describe("build from ledger (SQL)", build_times))
    print(describe("statement PDF", pdf_times) + f"   {len(pdf) / 1024:.0f} KiB")
    print(describe("WeasyPrint, table alone", table_times))
    print(f"{'PDF / table-alone ratio':<28} {ratio:7.3f}")
    print(describe("statement XLSX", xlsx_times) + f"   {len(xlsx) / 1024:.0f} KiB")
    print(f"peak Python memory: PDF {pdf_peak / 2**20:.0f} MiB, XLSX {xlsx_peak / 2**20:.1f} MiB")


def contract_bench(years, repeat):
    from portal.metering.models import Contract

    workdir = Path(tempfile.mkdtemp(prefix="bench-contract-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench",
            "REPORT_DIR": str(workdir),
        }
    )
    with app.test_request_context():
        db.create_all()
        organisation = Organisation(legal_name='АО "Бенчмарк"', inn="7707083893", kind="gas")
        db.session.add(organisation)
        db.session.flush()
        first_year = 2026 - years + 1
        contract = Contract(
            organisation_id=organisation.id,
            number="ГП-52-0118/23",
            start_date=date(first_year, 1, 1),
        )
        db.session.add(contract)
        db.session.flush()
        posting = []
        for year in range(first_year, 2027):
            for month in range(1, 13):
                end = date(year, month, 28)
                started = time.perf_counter()
                post_charge(
                    organisation.id,
                    Decimal("812345.67") + month,
                    entry_date=end,
                    description="Газ",
                    document_number=f"{contract.number}/{year}-{month:02d}",
                    vat_amount=Decimal("135390.95"),
                    contract_id=contract.id,
                    source_type="gas_charge",
                )
                post_payment(
                    organisation.id,
                    Decimal("812345.67") + month,
                    entry_date=end + timedelta(days=10),
                    description="Оплата",
                    document_number=f"{year % 100}{month:02d}1",
                    purpose=f"Оплата за газ по договору {contract.number}",
                )
                posting.append(time.perf_counter() - started)
        db.session.commit()
        print(f"{years} years: {len(posting)} monthly charges and {len(posting)} payments")
        print(describe("post charge + payment", posting))
        for label, start in (("last year", date(2026, 1, 1)), ("five years", date(2022, 1, 1))):
            build_times, statement = timed(
                lambda start=start: build_statement(
                    organisation.id, start, date(2026, 12, 31), contract.id
                ),
                repeat,
            )
            rendering.statement_pdf(statement)  # warm-up
            pdf_times, pdf = timed(lambda s=statement: rendering.statement_pdf(s), repeat)
            xlsx_times, xlsx = timed(lambda s=statement: rendering.statement_xlsx(s), repeat)
            print(f"-- per-contract act, {label}: {len(statement.lines)} lines")
            print(describe("build (SQL + allocation)", build_times))
            print(describe("act PDF", pdf_times) + f"   {len(pdf) / 1024:.0f} KiB")
            print(describe("act XLSX", xlsx_times) + f"   {len(xlsx) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
