"""A УПД of many lines: «Документ составлен на N листах» and «стр. N из N» are right, and the
one-layout rendering (only the last pages laid out again with the count) prints exactly what a
second full layout prints."""

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import render_template

from portal.billing import primary, upd_render
from portal.billing.models import PrimaryDocument

needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")


def long_snapshot(lines: int) -> dict:
    party = {"name": 'ООО "Аптека"', "inn": "7701234567", "kpp": "770101001", "address": "Москва"}
    signer = {"position": "Генеральный директор", "name": "Соколов А. В."}
    rows = []
    for position in range(1, lines + 1):
        long_name = position % 4 == 0  # some names wrap onto three lines
        rows.append(
            {
                "position": position,
                "code": f"SKU-{position:04d}",
                "name": "Парацетамол таблетки 500 мг №20 " * (3 if long_name else 1),
                "kind_code": "",
                "unit_code": "778",
                "unit_name": "упак",
                "quantity": "2",
                "price": "100.00",
                "net": "200.00",
                "excise": "без акциза",
                "vat_category": "reduced",
                "vat_rate": "10.00",
                "vat_text": "10\u00a0%",
                "vat": "20.00",
                "total": "220.00",
                "country_code": "643",
                "country_name": "РОССИЯ",
                "declaration": "",
                "series": "",
                "expires_on": "",
            }
        )
    total = 220 * lines
    return {
        "version": 1,
        "kind": "upd",
        "status": 1,
        "number": "5",
        "date": "2026-03-10",
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": party,
        "consignor": {**party, "note": "он же"},
        "consignee": party,
        "buyer": party,
        "shipment_document": {"positions": f"1–{lines}", "number": "5", "date": "2026-03-10"},
        "order": {"number": "A-1", "date": "2026-03-05"},
        "contract": {},
        "basis": "Заказ № A-1 от 05.03.2026",
        "lines": rows,
        "totals": {
            "net": f"{200 * lines}.00",
            "vat": f"{20 * lines}.00",
            "total": f"{total}.00",
            "vat_by_rate": {"10": f"{20 * lines}.00"},
        },
        "signatures": {
            key: signer
            for key in ("director", "accountant", "handed_over", "responsible", "received")
        },
        "shipped_on": "2026-03-10",
    }


def two_layouts(document, app) -> bytes:
    """The plain way: lay the whole document out, count its pages, lay it out again."""
    from weasyprint import HTML

    from portal.reports.pdf import STATIC_SCHEME, make_url_fetcher

    snapshot = primary.snapshot_of(document)
    context = {
        "doc": upd_render.display(snapshot),
        "shipped_on_words": upd_render._day_in_words(snapshot["shipped_on"]),
        "first_line": 0,
        "tail": False,
        "page_offset": 0,
        "column_widths": (),
    }
    fetcher = make_url_fetcher(Path(app.static_folder))

    def render(sheets):
        html = render_template("billing/upd_pdf.html", sheets=sheets, **context)
        return HTML(string=html, url_fetcher=fetcher, base_url=STATIC_SCHEME).render()

    return render(len(render(1).pages)).write_pdf()


def pages_as_images(pdf: bytes, folder: Path, name: str) -> list[bytes]:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", str(path), str(folder / name)], check=True)
    return [image.read_bytes() for image in sorted(folder.glob(f"{name}-*.ppm"))]


@needs_poppler
def test_a_long_upd_counts_its_sheets_and_prints_what_two_layouts_print(app, tmp_path):
    text = primary.canonical_json(long_snapshot(70))
    document = PrimaryDocument(
        id=1,
        kind="upd",
        organisation_id=0,
        snapshot=text,
        snapshot_sha256=primary.digest(text),
        issued_at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    with app.test_request_context():
        fast = upd_render.upd_pdf(document)
        plain = two_layouts(document, app)
    ours = pages_as_images(fast, tmp_path, "fast")
    theirs = pages_as_images(plain, tmp_path, "plain")
    assert len(ours) == len(theirs) >= 3
    assert ours == theirs  # every page, pixel for pixel
    last = subprocess.run(
        ["pdftotext", "-f", str(len(ours)), "-l", str(len(ours)), str(tmp_path / "fast.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{len(ours)} листе(ах)" in last
    assert f"стр. {len(ours)} из {len(ours)}" in last
