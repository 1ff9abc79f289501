"""A 1,000-line reconciliation statement: PDF vs WeasyPrint on the bare table, and XLSX.

    .venv/bin/python bench/statements_render.py [--lines 1000] [--repeat 3]

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

TABLE_ONLY = """{% extends "reports/_pdf_base.html" %}{% block body %}
<table><thead><tr><th>№</th><th>Дата</th><th>Документ</th><th>Дебет</th><th>Кредит</th>
<th>Дебет</th><th>Кредит</th></tr></thead><tbody>
{% for line in s.lines %}<tr><td>{{ loop.index }}</td>
<td>{{ line.entry_date.strftime("%d.%m.%Y") }}</td>
<td>{{ line.document_number }} {{ line.description }}</td>
<td class="num">{{ amount(line.debit) }}</td>
<td class="num">{{ amount(line.credit) }}</td><td></td><td></td></tr>{% endfor %}
</tbody></table>{% endblock %}"""


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
    args = parser.parse_args()
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
            html_to_pdf(render_template_string(TABLE_ONLY, s=statement, amount=rendering.amount))
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


if __name__ == "__main__":
    main()
