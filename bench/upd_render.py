"""A 1,000-line УПД: the portal's PDF vs WeasyPrint alone on the same HTML, and the ФНС XML.

    .venv/bin/python bench/upd_render.py [--lines 1000] [--repeat 3]

Builds a УПД snapshot of N lines (medicines at 10 % and goods at 22 %, names of varying
length), then times, in the same run: `upd_render.upd_pdf` (template, layout, the
«Документ составлен на N листах» count, PDF), WeasyPrint alone writing the PDF of the very HTML
the portal renders (template rendered beforehand, the sheet count already known), the XLSX and
the ФНС XML. Prints median/min/max and the ratio; asserts nothing.
"""

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flask import render_template

from portal import create_app
from portal.billing import fns_xml, primary, upd_render
from portal.billing.models import PrimaryDocument
from portal.reports.pdf import html_to_pdf


def timed(function, repeat):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def snapshot(lines: int) -> dict:
    party = {
        "name": 'ООО "Аптека Здоровье"',
        "inn": "7701234567",
        "kpp": "770101001",
        "address": "115088, г. Москва, ул. Аптечная, д. 1",
        "edo_id": "2AE-7701234567",
    }
    seller = {
        "name": 'ООО "Фарма-Газ Снабжение"',
        "inn": "7729012342",
        "kpp": "772901001",
        "address": "119415, г. Москва, пр-т Вернадского, д. 41",
        "edo_id": "2BM-7729012342-772901001-201912050000000000001",
    }
    rows, net_total, vat_total = [], Decimal("0"), Decimal("0")
    by_rate = {}
    for position in range(1, lines + 1):
        medicine = position % 3 != 0
        rate = Decimal("10") if medicine else Decimal("22")
        quantity = position % 7 + 1
        price = Decimal("100.00") + position % 50
        net = price * quantity
        vat = (net * rate / 100).quantize(Decimal("0.01"))
        net_total += net
        vat_total += vat
        by_rate[str(int(rate))] = by_rate.get(str(int(rate)), Decimal("0")) + vat
        name = ("Ибупрофен таблетки покрытые пленочной оболочкой 200 мг №" + str(position)) * (
            1 + position % 2
        )
        rows.append(
            {
                "position": position,
                "code": f"SKU-{position:05d}",
                "name": name,
                "kind_code": "",
                "unit_code": "778",
                "unit_name": "упак",
                "quantity": str(quantity),
                "price": str(price),
                "net": str(net),
                "excise": "без акциза",
                "vat_category": "reduced" if medicine else "general",
                "vat_rate": f"{rate}.00",
                "vat_text": f"{rate}\u00a0%",
                "vat": str(vat),
                "total": str(net + vat),
                "country_code": "643",
                "country_name": "РОССИЯ",
                "declaration": "",
                "series": "",
                "expires_on": "",
            }
        )
    day = "2026-03-10"
    signer = {"position": "Генеральный директор", "name": "Соколов А. В."}
    return {
        "version": 1,
        "kind": "upd",
        "status": 1,
        "number": "1",
        "date": day,
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": seller,
        "consignor": {**seller, "note": "он же"},
        "consignee": party,
        "buyer": party,
        "shipment_document": {"positions": f"1–{lines}", "number": "1", "date": day},
        "order": {"number": "A-000001", "date": "2026-03-05"},
        "contract": {},
        "basis": "Заказ № A-000001 от 05.03.2026",
        "lines": rows,
        "totals": {
            "net": str(net_total),
            "vat": str(vat_total),
            "total": str(net_total + vat_total),
            "vat_by_rate": {k: str(v) for k, v in by_rate.items()},
        },
        "signatures": {
            key: signer
            for key in ("director", "accountant", "handed_over", "responsible", "received")
        },
        "shipped_on": day,
    }


def report(label, times):
    print(
        f"{label:<44} median {statistics.median(times):7.3f} s  "
        f"min {min(times):7.3f}  max {max(times):7.3f}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-upd-"))
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "TESTING": True}
    )
    text = primary.canonical_json(snapshot(args.lines))
    document = PrimaryDocument(
        id=1,
        kind="upd",
        series="",
        year=2026,
        number=1,
        organisation_id=1,
        snapshot=text,
        snapshot_sha256=primary.digest(text),
        issued_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
    )
    with app.test_request_context():
        print(f"УПД of {args.lines} lines, {args.repeat} runs each", flush=True)
        # Warm-up (WeasyPrint's import, fonts, stylesheets): not timed for either side.
        warm = render_template(
            "billing/upd_pdf.html",
            sheets=1,
            doc=upd_render.display(snapshot(2)),
            shipped_on_words="«10» марта 2026 г.",
        )
        html_to_pdf(warm)
        portal_times, pdf = timed(lambda: upd_render.upd_pdf(document), args.repeat)
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
        pages = int(re.search(rb"Pages:\s+(\d+)", info.stdout)[1])
        print(f"{pages} pages, PDF {len(pdf) / 1024:.0f} KiB", flush=True)
        report("portal upd_pdf (template + layout + PDF)", portal_times)
        doc = primary.snapshot_of(document)
        context = {
            "doc": upd_render.display(doc),
            "shipped_on_words": upd_render._day_in_words(doc["shipped_on"]),
        }
        html = render_template("billing/upd_pdf.html", sheets=pages, **context)
        alone_times, _ = timed(lambda: html_to_pdf(html), args.repeat)
        report("WeasyPrint alone, same HTML", alone_times)
        ratio = statistics.median(portal_times) / statistics.median(alone_times)
        print(f"ratio portal / WeasyPrint alone (medians): {ratio:.2f}", flush=True)
        xlsx_times, _ = timed(lambda: upd_render.upd_xlsx(document).close(), args.repeat)
        report("XLSX", xlsx_times)
        xml_times, (_name, xml) = timed(lambda: fns_xml.document_xml(document), args.repeat)
        report(f"ФНС XML ({len(xml) / 1024:.0f} KiB)", xml_times)


if __name__ == "__main__":
    main()
