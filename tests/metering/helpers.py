"""Builders for gas contracts, meters and readings used by the metering tests."""

import itertools
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

from portal.extensions import db
from portal.metering.models import Contract, MeteringPoint, Reading, Tariff

_serials = itertools.count(900001)


def make_contract(organisation, number=None, price="8000.00", since=date(2020, 1, 1)):
    contract = Contract(
        organisation_id=organisation.id,
        number=number or f"Д-{next(_serials)}",
        start_date=since,
    )
    contract.tariffs = [Tariff(valid_from=since, price_per_thousand=Decimal(price))]
    db.session.add(contract)
    db.session.flush()
    return contract


def make_meter(organisation, contract=None, *, digits=6, max_flow="10", serial=None):
    contract = contract or make_contract(organisation)
    meter = MeteringPoint(
        organisation_id=organisation.id,
        contract_id=contract.id,
        address="Нижний Новгород, ул. Заводская, 1",
        serial_number=serial or str(next(_serials)),
        model="ВК-G10",
        digits=digits,
        max_flow=Decimal(max_flow),
    )
    db.session.add(meter)
    db.session.flush()
    return meter


def add_reading(meter, day: date, value, consumption=None):
    reading = Reading(
        organisation_id=meter.organisation_id,
        metering_point_id=meter.id,
        period=day.replace(day=1),
        reading_date=day,
        value=Decimal(str(value)),
        consumption=None if consumption is None else Decimal(str(consumption)),
    )
    db.session.add(reading)
    db.session.flush()
    return reading


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.found.append(attributes["href"])
        if tag == "form" and attributes.get("action"):
            self.found.append(attributes["action"])


def links(page: str) -> list[str]:
    """Every link and form target of a page, as the browser reads them."""
    parser = _Links()
    parser.feed(page)
    return parser.found


def svg_references(page: str, marker='aria-labelledby="chart-title') -> list[str]:
    """Every address the page's chart (the SVG with `marker`) refers to (href, src, url())."""
    svgs = [part.split("</svg>", 1)[0] for part in page.split("<svg")[1:]]
    [svg] = [svg for svg in svgs if marker in svg]
    found = re.findall(r'(?:href|src)="([^"]*)"|url\(([^)]*)\)', svg)
    return [attribute or url for attribute, url in found]
