"""Primary documents: the УПД of a shipment, numbered without gaps and frozen when issued.

Numbering: one counter row per (kind, series, year). A new number locks that row
(SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers), adds one and writes the
document in the same transaction: a rolled-back issue gives its number back, so the numbers
of a year run 1, 2, 3 … without gaps and never repeat under concurrent issue.

Immutability: everything the document prints (parties, lines, rates, amounts, dates, the
people signing) is copied into a snapshot when it is issued. The snapshot is canonical JSON
and its SHA-256 is stored beside it; renderers read only the snapshot and refuse one whose
digest no longer matches. Nothing updates an issued row (a guard below raises).
"""

import hashlib
import json
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select

from portal import audit
from portal.api import webhooks
from portal.billing import okei, tax
from portal.billing.models import DocumentCounter, DocumentKind, PrimaryDocument, Shipment
from portal.billing.requisites import requisite_problems
from portal.errors import UserError
from portal.extensions import db
from portal.money import TaxedLine, document_vat

SNAPSHOT_VERSION = 1
# The goods' УПД have no series; the gas monthly УПД number on their own in series «Г», and
# every УКД (goods and gas) in series «К» of its own kind.
GOODS_SERIES = ""
GAS_SERIES = "Г"
UKD_SERIES = "К"
THOUSAND = Decimal(1000)

# How the requisite checks name a field, as the message to the user names it.
REQUISITE_FIELDS = {
    "INN": _l("INN"),
    "KPP": _l("KPP"),
    "OGRN": _l("OGRN"),
    "BIK": _l("BIK"),
    "Account": _l("Settlement account"),
    "Correspondent account": _l("Correspondent account"),
    "director_name": _l("Director's name"),
    "director_position": _l("Director's position"),
    "accountant_name": _l("Chief accountant's name"),
    "accountant_position": _l("Chief accountant's position"),
}


class DocumentTampered(RuntimeError):
    """A stored snapshot whose SHA-256 does not match: it is never rendered."""


class DocumentFrozen(RuntimeError):
    """Code tried to change an issued document (a correction is a new document, a УКД)."""


# --- numbering ----------------------------------------------------------------------------


def next_number(kind: str, series: str, year: int) -> int:
    """The next number of a kind, series and year, under a lock on its counter row."""
    table = DocumentCounter.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # The row exists after this (a concurrent first issue of a year inserts it only once).
    db.session.execute(
        insert(table)
        .values(kind=kind, series=series, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["kind", "series", "year"])
    )
    counter = db.session.scalar(
        select(DocumentCounter)
        .where(
            DocumentCounter.kind == kind,
            DocumentCounter.series == series,
            DocumentCounter.year == year,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter.last_number += 1
    db.session.flush()
    return counter.last_number


# --- the snapshot -------------------------------------------------------------------------


def canonical_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def money_text(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def check_requisites(supplier: dict) -> None:
    problems = requisite_problems(supplier)
    if not problems:
        return
    field, _sep, _detail = problems[0].partition(":")
    raise UserError(
        _(
            "The УПД is not issued: the supplier's requisite «%(field)s» is missing or invalid. "
            "An administrator corrects it in the portal's settings (SUPPLIER_…).",
            field=REQUISITE_FIELDS.get(field, field),
        ),
        "supplier",
    )


def _supply_contract(organisation, order) -> dict:
    """The contract the goods are supplied under, when the organisation records one."""
    number = getattr(organisation, "supply_contract_number", None)
    day = getattr(organisation, "supply_contract_date", None)
    if number:
        return {"number": str(number), "date": day.strftime("%d.%m.%Y") if day else ""}
    return {}


def _local_date(moment) -> date | None:
    """A stored UTC moment as the date in the supplier's time zone (Moscow by default)."""
    if moment is None:
        return None
    from datetime import UTC
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def party(organisation, address=None) -> dict:
    return {
        "name": organisation.legal_name,
        "inn": organisation.inn or "",
        "kpp": organisation.kpp or "",
        "address": (address if address is not None else organisation.legal_address) or "",
        "edo_id": getattr(organisation, "edo_id", None) or "",
    }


def _check_shipment(shipment: Shipment | None, order) -> None:
    if shipment is None or not shipment.lines:
        raise UserError(
            _(
                "Order %(number)s has not shipped: a УПД is issued for a recorded shipment.",
                number=order.number,
            ),
            "order",
        )
    ordered = {line.id: line for line in order.lines}
    for line in shipment.lines:
        order_line = ordered.get(line.order_line_id)
        if order_line is None or line.quantity > order_line.quantity:
            raise UserError(
                _(
                    "«%(name)s»: %(shipped)s packs shipped, more than the %(ordered)s ordered. "
                    "The УПД is not issued; correct the shipped quantity.",
                    name=line.name,
                    shipped=line.quantity,
                    ordered=order_line.quantity if order_line else 0,
                ),
                "quantity",
            )
        if line.quantity <= 0:
            raise UserError(
                _("«%(name)s»: the shipped quantity must be positive.", name=line.name),
                "quantity",
            )


# Details of shipped lines that a domain above billing knows (the series and expiry of a
# medicine, portal.pharmacy): each source takes order line ids and returns
# {order line id: {"series": ..., "expires_on": "DD.MM.YYYY"}}.
LINE_DETAIL_SOURCES: list = []


def register_line_details(source) -> None:
    if source not in LINE_DETAIL_SOURCES:
        LINE_DETAIL_SOURCES.append(source)


def _line_details(order_line_ids) -> dict[int, dict]:
    found: dict[int, dict] = {}
    for source in LINE_DETAIL_SOURCES:
        for line_id, details in source(order_line_ids).items():
            found.setdefault(line_id, {}).update(details)
    return found


def shipment_snapshot(shipment: Shipment, number: str, supplier: dict) -> dict:
    """Everything the УПД of a shipment prints, as strings (amounts to the kopeck)."""
    order = shipment.order
    buyer = order.organisation
    items = {line.item_id: line.item for line in order.lines}
    order_lines = {line.id: line for line in order.lines}
    details = _line_details([line.order_line_id for line in shipment.lines])
    lines = []
    for position, line in enumerate(shipment.lines, start=1):
        order_line = order_lines[line.order_line_id]
        item = items.get(order_line.item_id)
        unit = (getattr(item, "okei_code", None) or okei.DEFAULT_UNIT) if item else "778"
        country = getattr(item, "origin_country_code", None) if item else None
        # The price without VAT is the line's cost without VAT per unit, to the kopeck; the
        # cost itself is the line's net as charged (never price × quantity re-rounded).
        price_net = (line.net_amount / line.quantity).quantize(Decimal("0.01"))
        lines.append(
            {
                "position": position,
                "code": line.sku,
                "name": line.name,
                "kind_code": "",
                "unit_code": unit,
                "unit_name": okei.unit_name(unit),
                "quantity": str(line.quantity),
                "price": money_text(price_net),
                "net": money_text(line.net_amount),
                "excise": "без акциза",
                "vat_category": line.vat_category,
                "vat_rate": str(line.vat_rate),
                "vat_text": tax.rate_text(line.vat_category, line.vat_rate),
                "vat": money_text(line.vat_amount),
                "total": money_text(line.amount),
                "country_code": country or "",
                "country_name": okei.country_name(country),
                "declaration": "",
                "series": details.get(line.order_line_id, {}).get("series", ""),
                "expires_on": details.get(line.order_line_id, {}).get("expires_on", ""),
            }
        )
    vat_by_rate = document_vat(
        TaxedLine(line.net_amount, line.vat_amount, line.amount, line.vat_rate)
        for line in shipment.lines
    )
    contract = _supply_contract(buyer, order)
    order_date = _local_date(order.created_at) or shipment.shipment_date
    basis = f"Заказ № {order.number} от {order_date:%d.%m.%Y}"
    if contract:
        basis = f"Договор поставки № {contract['number']}" + (
            f" от {contract['date']}" if contract["date"] else ""
        )
        basis += f"; заказ № {order.number} от {order_date:%d.%m.%Y}"
    receiver = order.user.full_name if order.user is not None else ""
    seller = {
        "name": supplier["name"],
        "inn": supplier["inn"],
        "kpp": supplier["kpp"],
        "address": supplier["address"],
        "edo_id": supplier.get("edo_id") or "",
    }
    return {
        "version": SNAPSHOT_VERSION,
        "kind": DocumentKind.UPD.value,
        "status": 1,
        "number": number,
        "date": shipment.shipment_date.isoformat(),
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": seller,
        "consignor": {**seller, "note": "он же"},
        "consignee": party(buyer, order.delivery_address),
        "buyer": party(buyer),
        "shipment_document": {
            "positions": f"1–{len(lines)}" if len(lines) > 1 else "1",
            "number": number,
            "date": shipment.shipment_date.isoformat(),
        },
        "order": {"number": order.number, "date": order_date.isoformat()},
        "contract": contract,
        "basis": basis,
        "lines": lines,
        "totals": {
            "net": money_text(shipment.net_amount),
            "vat": money_text(shipment.vat_amount),
            "total": money_text(shipment.total),
            "vat_by_rate": {str(rate): money_text(amount) for rate, amount in vat_by_rate.items()},
        },
        "signatures": signatures_of(supplier, receiver),
        "shipped_on": shipment.shipment_date.isoformat(),
    }


def signatures_of(supplier: dict, receiver: str) -> dict:
    """Who signs a УПД (the supplier's settings) and who receives it."""
    return {
        "director": {"position": supplier["director_position"], "name": supplier["director_name"]},
        "accountant": {
            "position": supplier["accountant_position"],
            "name": supplier["accountant_name"],
        },
        "handed_over": {
            "position": supplier.get("shipper_position") or supplier["director_position"],
            "name": supplier.get("shipper_name") or supplier["director_name"],
        },
        "responsible": {
            "position": supplier["accountant_position"],
            "name": supplier["accountant_name"],
        },
        "received": {"position": "", "name": receiver},
    }


# --- issue and read -----------------------------------------------------------------------


def upd_of(shipment_id) -> PrimaryDocument | None:
    return db.session.scalar(
        select(PrimaryDocument).where(
            PrimaryDocument.kind == DocumentKind.UPD, PrimaryDocument.shipment_id == shipment_id
        )
    )


def upd_of_order(order_id) -> PrimaryDocument | None:
    """The УПД of an order's shipment (None before it ships, or for a shipment recorded
    before documents were numbered on their own until staff issue it)."""
    return db.session.scalar(
        select(PrimaryDocument)
        .join(Shipment, Shipment.id == PrimaryDocument.shipment_id)
        .where(PrimaryDocument.kind == DocumentKind.UPD, Shipment.order_id == order_id)
    )


def issue_upd(order, user=None) -> PrimaryDocument:
    """Issue the УПД of an order's shipment (once: a second call returns the same document)."""
    from portal.billing.shipments import shipment_of

    shipment = shipment_of(order.id)
    _check_shipment(shipment, order)
    existing = upd_of(shipment.id)
    if existing is not None:
        return existing
    supplier = current_app.config["SUPPLIER"]
    check_requisites(supplier)
    day: date = shipment.shipment_date
    number = next_number(DocumentKind.UPD, GOODS_SERIES, day.year)
    printed = f"{GOODS_SERIES}-{number}" if GOODS_SERIES else str(number)
    return store_document(
        shipment_snapshot(shipment, printed, supplier),
        kind=DocumentKind.UPD,
        series=GOODS_SERIES,
        number=number,
        day=day,
        organisation_id=shipment.organisation_id,
        user=user,
        refs={"shipment_id": shipment.id},
        details={"number": printed, "order": order.number},
    )


def store_document(snapshot, *, kind, series, number, day, organisation_id, user, refs, details):
    """Keep an issued document: its frozen snapshot and digest, the audit entry (with
    `details`), and the `document.issued` webhook event. `refs`: shipment_id, gas_charge_id,
    corrects_id — what the document is of."""
    text = canonical_json(snapshot)
    document = PrimaryDocument(
        kind=kind,
        series=series,
        year=day.year,
        number=number,
        organisation_id=organisation_id,
        document_date=day,
        issued_by_id=getattr(user, "id", None),
        snapshot=text,
        snapshot_sha256=digest(text),
        **refs,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        "billing.document_issued",
        target=document,
        organisation=organisation_id,
        kind=document.kind,
        sha256=document.snapshot_sha256,
        **details,
    )
    webhooks.emit("document.issued", document.organisation_id, webhooks.document_data(document))
    return document


def snapshot_of(document: PrimaryDocument) -> dict:
    """The frozen figures of an issued document; a snapshot that was altered is refused."""
    if digest(document.snapshot) != document.snapshot_sha256:
        raise DocumentTampered(f"primary document {document.id}: the snapshot digest differs")
    return json.loads(document.snapshot)


def documents_of_month(organisation_id, month: date, kinds=(DocumentKind.UPD, DocumentKind.UKD)):
    """The УПД (goods and gas) and УКД dated in a month, in date and number order."""
    start = month.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return db.session.scalars(
        select(PrimaryDocument)
        .where(
            PrimaryDocument.organisation_id == organisation_id,
            PrimaryDocument.kind.in_([str(kind) for kind in kinds]),
            PrimaryDocument.document_date >= start,
            PrimaryDocument.document_date < end,
        )
        .order_by(
            PrimaryDocument.document_date,
            PrimaryDocument.kind,
            PrimaryDocument.series,
            PrimaryDocument.number,
        )
    ).all()


FROZEN = ("kind", "series", "year", "number", "organisation_id", "document_date", "snapshot")


@event.listens_for(PrimaryDocument, "before_update")
def _issued_documents_never_change(mapper, connection, target):
    state = db.inspect(target)
    changed = [name for name in FROZEN if state.attrs[name].history.has_changes()]
    changed += ["snapshot_sha256"] if state.attrs.snapshot_sha256.history.has_changes() else []
    if changed:
        raise DocumentFrozen(
            f"primary document {target.id} is issued; {', '.join(changed)} cannot change "
            "(a correction is a new document, a УКД)"
        )
