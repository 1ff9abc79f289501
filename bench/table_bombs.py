"""Spreadsheet bombs against the readers of uploaded tables: time and memory per bomb.

    .venv/bin/python bench/table_bombs.py            # every case, each in a fresh process

Each case runs in its own process (so the peak RSS is that case's own) against a throwaway
SQLite database: the reader a form calls (order file, readings template, catalogue import, bank
statement) is given the bomb, and the script prints the wall and CPU time, the growth of the
peak RSS over the process at start, and what the reader answered. It prints, it asserts nothing.
"""

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "order-1gb-cell": ("order", "gigabyte"),
    "order-16384-columns": ("order", "wide"),
    "order-19mb-csv-field": ("order", "csv"),
    "readings-1gb-cell": ("readings", "gigabyte"),
    "readings-16384-columns": ("readings", "wide"),
    "catalog-1gb-cell": ("catalog", "gigabyte"),
    "catalog-16384-columns": ("catalog", "wide"),
    "catalog-19mb-csv-field": ("catalog", "csv"),
    "bank-19mb-csv-field": ("bank", "csv"),
}
HEADERS = {
    "order": ["Код", "Количество"],
    "readings": [
        "Заводской номер",
        "Адрес",
        "Договор",
        "Дата предыдущего показания",
        "Предыдущее показание, м³",
        "Новое показание, м³",
        "Переход через ноль (да)",
    ],
    "catalog": ["sku", "trade_name", "price"],
    "bank": ["payer_inn", "amount", "date", "document_number"],
}


def bomb(form: str, kind: str) -> tuple[str, bytes]:
    from tests.files.bombs import declared_wide_sheet, one_cell_inflating_to

    if kind == "gigabyte":
        return "bomb.xlsx", one_cell_inflating_to(HEADERS[form], 1 << 30)
    if kind == "wide":
        return "bomb.xlsx", declared_wide_sheet(HEADERS[form])
    return "bomb.csv", ";".join(HEADERS[form]).encode() + b"\nX;" + b"9" * (19 << 20) + b"\n"


def read(form: str, name: str, data: bytes):
    from portal.billing import bank_import
    from portal.catalog import importer
    from portal.metering import workbook
    from portal.orders import order_files

    if form == "order":
        return order_files.read_order_file(name, data)
    if form == "readings":
        return workbook.parse_upload(io.BytesIO(data), 1)
    if form == "catalog":
        return importer.import_catalog(name, data, dry_run=True)
    return bank_import.import_bank_statement(data, None)


def run_case(case: str) -> dict:
    from portal import create_app
    from portal.extensions import db

    form, kind = CASES[case]
    name, data = bomb(form, kind)
    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db"})
    with app.app_context():
        db.create_all()
    with app.test_request_context():
        rss_before = _reset_peak_rss_kb()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            result = read(form, name, data)
            answer = f"read {len(result) if hasattr(result, '__len__') else result}"
        except Exception as error:  # noqa: BLE001 - the answer is what we report
            answer = f"{type(error).__name__}: {getattr(error, 'message', error)}"
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak_kb = _status_kb("VmHWM")
    return {
        "case": case,
        "file_kb": round(len(data) / 1024),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rss_growth_mb": round(max(peak_kb - rss_before, 0) / 1024),
        "answer": str(answer)[:90],
    }


def _reset_peak_rss_kb() -> int:
    """Reset the process's peak RSS (Linux: clear_refs 5) and return the RSS now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2]), ensure_ascii=False))
        return
    print(f"{'case':26} {'file KB':>8} {'wall s':>7} {'CPU s':>6} {'+RSS MB':>8}  answer")
    for case in CASES:
        output = subprocess.run(
            [sys.executable, __file__, "--case", case],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        try:
            row = json.loads(output.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            print(f"{case:26} failed: {output.stderr.strip()[-300:]}")
            continue
        print(
            f"{row['case']:26} {row['file_kb']:>8} {row['wall_s']:>7} {row['cpu_s']:>6} "
            f"{row['rss_growth_mb']:>8}  {row['answer']}"
        )


if __name__ == "__main__":
    main()
