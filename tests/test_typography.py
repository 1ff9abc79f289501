"""A sweep of the main pages of the buyer, the gas customer and the manager, in both languages.

On the demo data it fails on what a reader notices: straight quotes around Russian words
(«ёлочки» are the Russian quotes), «m³» on a Russian page, a number in scientific notation
(«2E+1»), a raw power code (``view_prices``) instead of its label.
"""

import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.metering.models import Contract, MeteringPoint, Reading
from portal.orders.models import Order
from portal.organisations.models import Power
from tests.factories import login

STRAIGHT_QUOTED_RUSSIAN = re.compile(r'"[^"\n]{0,80}[А-Яа-яЁё][^"\n]{0,80}"')
SCIENTIFIC = re.compile(r"[0-9][eE][+-][0-9]")
POWER_CODES = re.compile(r"\b(" + "|".join(p.value for p in Power if "_" in p.value) + r")\b")
# On a Russian page, also a code with its underscores turned into spaces («view finance»).
SPACED_POWER_CODES = re.compile(
    r"\b(" + "|".join(p.value.replace("_", " ") for p in Power if "_" in p.value) + r")\b"
)
SKIPPED = re.compile(r"(logout|/language/|\.xlsx|\.pdf|\.zip|\.csv|/photo|/download|/export)")
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """The text a reader sees (and hears: titles and labels), and the page's own links."""

    def __init__(self):
        super().__init__()
        self.chunks, self.links, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.chunks.append(value)
            if tag == "input" and name == "value" and value and SCIENTIFIC.search(value):
                self.chunks.append(value)  # a pre-filled number the user edits
            if tag == "a" and name == "href" and value:
                self.links.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(data)


def read(page: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(page)
    return parser


def faults(text_chunks, language) -> list[str]:
    found = []
    for chunk in text_chunks:
        if match := STRAIGHT_QUOTED_RUSSIAN.search(chunk):
            found.append(f"straight quotes: {match[0]!r}")
        if match := SCIENTIFIC.search(chunk):
            found.append(f"scientific notation: {chunk.strip()[:80]!r}")
        if (
            (match := POWER_CODES.search(chunk))
            or language == "ru"
            and (match := SPACED_POWER_CODES.search(chunk))
        ):
            found.append(f"power code: {match[0]!r} in {chunk.strip()[:80]!r}")
        if language == "ru" and "m³" in chunk:
            found.append(f"m³ on a Russian page: {chunk.strip()[:80]!r}")
    return found


@pytest.fixture
def demo(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    return app


def signed_in(app, name, language):
    client = app.test_client()
    login(client, name, "demo-portal-2026")
    if name not in ("manager", "admin"):
        client.post("/offer", data={"accept": "y"})
        client.post("/privacy/consent", data={"version": "1", "accept": "y"})
    client.post(f"/language/{language}", data={"next": "/"})
    return client


def own_links(page_links, start):
    for href in page_links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if SKIPPED.search(parts.path) or parts.path in start:
            continue
        yield parts.path


def sweep(client, start_pages, language, limit=45):
    """The start pages and every page their links lead to (one step), checked for faults."""
    seen, queue, report = set(), list(start_pages), {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parsed = read(response.get_data(as_text=True))
        if problems := faults(parsed.chunks, language):
            report[path] = problems
        if path in start_pages:
            queue.extend(own_links(parsed.links, seen))
    return seen, report


def _demo_pages():
    order = db.session.scalars(select(Order).order_by(Order.id)).first()
    contract = db.session.scalars(select(Contract).order_by(Contract.id)).first()
    meter = db.session.scalars(select(MeteringPoint).order_by(MeteringPoint.id)).first()
    # A round reading (1000.000) was pre-filled as «1E+3» in the correction form.
    reading = db.session.scalars(
        select(Reading).where(Reading.metering_point_id == meter.id).order_by(Reading.id)
    ).first()
    reading.value = Decimal("1000.000")
    db.session.commit()
    return {
        "buyer": ["/", "/catalog/", "/cart", "/orders", f"/orders/{order.id}", "/settlements/"],
        "gas": [
            "/",
            "/metering/readings",
            "/metering/meters",
            f"/metering/meters/{meter.id}",
            f"/metering/contracts/{contract.id}",
            f"/metering/readings/{reading.id}/correct",
            "/settlements/",
        ],
        "manager": [
            "/",
            "/backoffice/",
            f"/backoffice/organisations/{order.organisation_id}",
            f"/backoffice/organisations/{contract.organisation_id}",
            "/backoffice/audit",
            f"/backoffice/metering/organisations/{contract.organisation_id}",
            f"/backoffice/metering/contracts/{contract.id}/edit",
            f"/backoffice/metering/meters/{meter.id}",
            f"/backoffice/metering/meters/{meter.id}/edit",
            f"/backoffice/metering/readings/{reading.id}/correct",
            "/backoffice/metering/review",
        ],
    }


def test_main_pages_have_no_typographic_faults(demo):
    """One demo database (seeding it is the slow part) for the three people in two languages."""
    pages = _demo_pages()
    faults_found = {}
    for who, start in pages.items():
        for language in ("ru", "en"):
            client = signed_in(demo, who, language)
            seen, report = sweep(client, start, language)
            assert len(seen) >= len(start)
            faults_found.update(
                {f"{who} {language} {path}": found for path, found in report.items()}
            )
    assert faults_found == {}


def test_the_sweep_sees_each_kind_of_fault():
    page = (
        '<p>ООО "Аптека"</p><p title="НДС 2E+1 %">x</p><p>view_prices</p>'
        '<p>100 m³</p><script>var a = "Скрипт";</script>'
    )
    found = faults(read(page).chunks, "ru")
    assert len(found) == 4, found
    assert faults(read("<p>ООО «Аптека» · 100 м³ · 20 %</p>").chunks, "ru") == []
    assert faults(read("<p>100 m³</p>").chunks, "en") == []


def test_demo_offer_keeps_each_clause_on_one_line():
    """The offer page keeps the text's line breaks: a clause must not break mid-sentence."""
    from portal.demo.foundation import OFFER_TEXT

    for line in filter(None, OFFER_TEXT.splitlines()):
        assert line.endswith(".") or re.fullmatch(r"[0-9]+\. \w[\w ]*", line), line


def test_application_number_is_never_split_at_its_hyphen(demo):
    client = signed_in(demo, "manager", "ru")
    page = client.get("/backoffice/onboarding/applications").get_data(as_text=True)
    numbers = re.findall(r'<td class="text-nowrap"><a [^>]*>(A-[0-9]{6})</a>', page)
    assert len(numbers) == 3
