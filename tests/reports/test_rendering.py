import shutil
import subprocess
from decimal import Decimal

import pytest

from portal.errors import UserError
from portal.reports import pdf
from portal.reports.words import rubles_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (Decimal("1234.50"), "Одна тысяча двести тридцать четыре рубля 50 копеек"),
        (Decimal("21.01"), "Двадцать один рубль 01 копейка"),
        (Decimal("0.00"), "Ноль рублей 00 копеек"),
        (Decimal("1000000"), "Один миллион рублей 00 копеек"),
    ],
)
def test_amount_in_words(amount, words):
    assert rubles_in_words(amount) == words


def test_pdf_has_cyrillic_text(app, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    with app.test_request_context():
        data = pdf.html_to_pdf(
            '<html><body><p style="font-family: sans-serif">Счёт на оплату № 1</p></body></html>'
        )
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Счёт на оплату № 1" in text


def test_pdf_refuses_local_files_and_external_urls(app, tmp_path):
    fetcher = pdf.make_url_fetcher(tmp_path)
    (tmp_path / "ok.css").write_text("p{}")
    assert fetcher.fetch("portal-static:ok.css").read() == b"p{}"
    for url in ("file:///etc/passwd", "http://169.254.169.254/", "portal-static:../../etc/passwd"):
        with pytest.raises(UserError):
            fetcher.fetch(url)


def test_pdf_uses_the_bundled_font(app, caplog):
    html = (
        '<html><head><style>@font-face { font-family: "Portal Sans"; '
        'src: url("portal-static:fonts/DejaVuSans.ttf"); } body { font-family: "Portal Sans"; }'
        "</style></head><body>Акт сверки</body></html>"
    )
    with app.test_request_context(), caplog.at_level("WARNING", logger="weasyprint"):
        data = pdf.html_to_pdf(html)
    assert data.startswith(b"%PDF")
    assert not [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
