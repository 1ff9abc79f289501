"""УКД: the universal correction document (корректировочный счёт-фактура, status 1).

An issued УПД never changes (primary.DocumentFrozen). When a shipped quantity or a gas
month's charge changes after its УПД was issued, a УКД is issued instead: every line of the
corrected document with its state before and after the change and the difference as increase
(row «В») and decrease (row «Г»), as in the official form. A second correction corrects the
latest state: its `corrects_id` points at the previous УКД, whose «after» is its «before».

Numbering: kind «ukd», series «К», per year without gaps (primary.next_number). The snapshot
shape is described in docs/documents.md («УКД»).
"""

from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import audit, clock
from portal.billing import gas_upd, ledger, primary, tax
from portal.billing.models import DocumentKind, PrimaryDocument, Shipment
from portal.billing.texts import LedgerText
from portal.errors import UserError
from portal.extensions import db
from portal.money import taxed_line_from_gross, to_money, vat_on_top

STATIC_KEYS = ("position", "code", "name", "kind_code", "unit_code", "unit_name", "vat_category")
STATE_KEYS = ("quantity", "price", "net", "vat_rate", "vat_text", "vat", "total")
MONEY_KEYS = ("net", "vat", "total")
SHIPMENT_REASON = "Уточнение количества отгруженного товара"
GAS_REASON = "Перерасчёт объёма газа за {period} по исправленным показаниям"
GAS_VAT_REASON = "Корректировка НДС за {period}: ставка, действующая на дату отгрузки"
SHIPMENT_VAT_REASON = "Корректировка НДС: ставка, действующая на дату отгрузки {day}"


class NothingToCorrect(UserError):
    """The new figures equal the latest document's: no УКД is issued."""


# --- the chain of a УПД and its corrections -------------------------------------------------


def corrections_of(original: PrimaryDocument) -> list[PrimaryDocument]:
    """The УКД of a УПД in the order they were issued (each corrects the one before)."""
    chain, current = [], original
    while True:
        following = db.session.scalar(
            select(PrimaryDocument)
            .where(
                PrimaryDocument.corrects_id == current.id,
                PrimaryDocument.kind == DocumentKind.UKD,
            )
            .order_by(PrimaryDocument.id.desc())
            .limit(1)
        )
        if following is None:
            return chain
        chain.append(following)
        current = following


def latest_of(original: PrimaryDocument) -> PrimaryDocument:
    chain = corrections_of(original)
    return chain[-1] if chain else original


def state_lines(document: PrimaryDocument) -> list[dict]:
    """[{static keys…, "state": {quantity, price, net, vat_rate, vat_text, vat, total}}]:
    the figures a document leaves each line at (a УПД's lines, a УКД's «after»)."""
    snapshot = primary.snapshot_of(document)
    lines = []
    for line in snapshot["lines"]:
        state = line["after"] if snapshot["kind"] == DocumentKind.UKD else line
        lines.append(
            {
                **{key: line.get(key, "") for key in STATIC_KEYS},
                "state": {key: state[key] for key in STATE_KEYS},
            }
        )
    return lines


def _same(before: dict, after: dict) -> bool:
    return all(
        Decimal(before[key]) == Decimal(after[key]) for key in ("quantity", "price", *MONEY_KEYS)
    )


def _quantity_text(value: Decimal, gas: bool) -> str:
    return str(value.quantize(Decimal("0.001"))) if gas else str(int(value))


def _split(before: dict, after: dict, gas: bool) -> tuple[dict, dict]:
    """Row «В» (increase) and row «Г» (decrease): never negative."""
    increase, decrease = {}, {}
    change = Decimal(after["quantity"]) - Decimal(before["quantity"])
    increase["quantity"] = _quantity_text(max(change, Decimal(0)), gas)
    decrease["quantity"] = _quantity_text(max(-change, Decimal(0)), gas)
    for key in MONEY_KEYS:
        change = Decimal(after[key]) - Decimal(before[key])
        increase[key] = primary.money_text(max(change, Decimal(0)))
        decrease[key] = primary.money_text(max(-change, Decimal(0)))
    return increase, decrease


def _sum(lines, part) -> dict:
    return {
        key: primary.money_text(sum((Decimal(line[part][key]) for line in lines), Decimal(0)))
        for key in MONEY_KEYS
    }


def issue_ukd(
    original: PrimaryDocument,
    new_states: dict[int, dict],
    *,
    reason: str,
    day: date,
    user=None,
) -> PrimaryDocument:
    """Issue the УКД of a УПД's latest state: `new_states` maps a line's position to its new
    figures (lines not named stay as they are). Refused (NothingToCorrect) when nothing
    changes."""
    supplier = current_app.config["SUPPLIER"]
    primary.check_requisites(supplier)
    latest = latest_of(original)
    first = primary.snapshot_of(original)
    gas = first.get("subject") == "gas"
    lines, changed = [], False
    for line in state_lines(latest):
        before = line.pop("state")
        after = new_states.get(line["position"], before)
        changed = changed or not _same(before, after)
        increase, decrease = _split(before, after, gas)
        lines.append(
            {**line, "before": before, "after": after, "increase": increase, "decrease": decrease}
        )
    if not changed:
        raise NothingToCorrect(
            _(
                "The correction changes nothing: the figures equal those of %(document)s. "
                "No УКД is issued.",
                document=_document_name(latest),
            ),
            "quantity",
        )
    number = primary.next_number(DocumentKind.UKD, primary.UKD_SERIES, day.year)
    printed = f"{primary.UKD_SERIES}-{number}"
    increase, decrease = _sum(lines, "increase"), _sum(lines, "decrease")
    snapshot = {
        "version": primary.SNAPSHOT_VERSION,
        "kind": DocumentKind.UKD.value,
        "subject": "gas" if gas else "goods",
        "status": 1,
        "number": printed,
        "date": day.isoformat(),
        "original": {"number": first["number"], "date": first["date"]},
        "corrects": {
            "kind": str(latest.kind),
            "number": latest.printed_number,
            "date": latest.document_date.isoformat(),
        },
        "currency": first["currency"],
        "seller": gas_upd.seller_of(supplier),
        "buyer": first["buyer"],
        "contract": first.get("contract") or {},
        "order": first.get("order"),
        "period": first.get("period"),
        "basis": first["basis"],
        "reason": reason,
        "lines": lines,
        "totals": {
            "increase": increase,
            "decrease": decrease,
            "difference": {
                key: primary.money_text(Decimal(increase[key]) - Decimal(decrease[key]))
                for key in MONEY_KEYS
            },
        },
        "signatures": primary.signatures_of(supplier, first["signatures"]["received"]["name"]),
    }
    return primary.store_document(
        snapshot,
        kind=DocumentKind.UKD,
        series=primary.UKD_SERIES,
        number=number,
        day=day,
        organisation_id=original.organisation_id,
        user=user,
        refs={
            "shipment_id": original.shipment_id,
            "gas_charge_id": original.gas_charge_id,
            "corrects_id": latest.id,
        },
        details={
            "number": printed,
            "corrects": latest.printed_number,
            "original": original.printed_number,
            "difference": snapshot["totals"]["difference"]["total"],
        },
    )


def _document_name(document: PrimaryDocument) -> str:
    label = "УКД" if document.kind == DocumentKind.UKD else "УПД"
    return f"{label} № {document.printed_number} от {document.document_date:%d.%m.%Y}"


# --- a shipped quantity corrected after the УПД ------------------------------------------


def correct_shipment(order, quantities: dict[int, int], user, day: date | None = None):
    """A manager corrects shipped quantities (order line id -> packs) after the УПД: a УКД,
    the shipment's lines at the new quantities, and the difference (with its VAT) in the
    ledger. Refused with a message, nothing saved: no УПД, a line that did not ship, more than
    ordered, a negative quantity, or nothing changing."""
    from portal.billing.shipments import shipment_of

    day = day or clock.local_today()
    shipment = shipment_of(order.id)
    original = primary.upd_of(shipment.id) if shipment is not None else None
    if original is None:
        raise UserError(
            _(
                "Order %(number)s has no issued УПД: a shipped quantity is corrected by a УКД "
                "only after the УПД of the shipment.",
                number=order.number,
            ),
            "order",
        )
    shipment = db.session.scalar(
        select(Shipment)
        .where(Shipment.id == shipment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    ordered = {line.id: line for line in order.lines}
    shipped = {line.order_line_id: line for line in shipment.lines}
    positions = {line.id: position for position, line in enumerate(shipment.lines, start=1)}
    current = {line["position"]: line["state"] for line in state_lines(latest_of(original))}
    new_states, changes = {}, {}
    for order_line_id, value in quantities.items():
        order_line = ordered.get(order_line_id)
        line = shipped.get(order_line_id)
        if order_line is None or line is None:
            raise UserError(
                _(
                    "«%(name)s» did not ship: a УКД corrects the lines of the УПД.",
                    name=order_line.name if order_line else order_line_id,
                ),
                "quantity",
            )
        if value is None or value < 0:
            raise UserError(
                _("«%(name)s»: enter the shipped quantity as a whole number.", name=line.name),
                "quantity",
            )
        if value > order_line.quantity:
            raise UserError(
                _(
                    "«%(name)s»: %(shipped)s packs is more than the %(ordered)s ordered. "
                    "Nothing is corrected.",
                    name=line.name,
                    shipped=value,
                    ordered=order_line.quantity,
                ),
                "quantity",
            )
        position = positions[line.id]
        before = current[position]
        if Decimal(before["quantity"]) == value:
            continue
        taxed = taxed_line_from_gross(to_money(line.price * value), line.vat_rate)
        new_states[position] = {
            **before,
            "quantity": str(value),
            "net": primary.money_text(taxed.net),
            "vat": primary.money_text(taxed.vat),
            "total": primary.money_text(taxed.gross),
        }
        changes[line.sku] = [int(before["quantity"]), value]
    document = issue_ukd(original, new_states, reason=SHIPMENT_REASON, day=day, user=user)
    difference = primary.snapshot_of(document)["totals"]["difference"]
    for line in shipment.lines:
        state = new_states.get(positions[line.id])
        if state is None:
            continue
        line.quantity = int(state["quantity"])
        line.net_amount = Decimal(state["net"])
        line.vat_amount = Decimal(state["vat"])
        line.amount = Decimal(state["total"])
        ordered[line.order_line_id].shipped_quantity = line.quantity
    shipment.net_amount = sum((line.net_amount for line in shipment.lines), Decimal("0.00"))
    shipment.vat_amount = sum((line.vat_amount for line in shipment.lines), Decimal("0.00"))
    shipment.total = sum((line.amount for line in shipment.lines), Decimal("0.00"))
    if Decimal(difference["total"]) != 0:
        ledger.post_adjustment(
            order.organisation_id,
            Decimal(difference["total"]),
            entry_date=day,
            reason=LedgerText(
                "shipment_correction",
                document=document.printed_number,
                date=f"{day:%d.%m.%Y}",
                original=original.printed_number,
                original_date=f"{original.document_date:%d.%m.%Y}",
                order=order.number,
            ),
            document_number=document.printed_number,
            vat_amount=Decimal(difference["vat"]),
            source_type="ukd",
            source_id=document.id,
            created_by_id=getattr(user, "id", None),
        )
    audit.record(
        "billing.shipment_corrected",
        target=order,
        organisation=order.organisation_id,
        number=order.number,
        ukd=document.printed_number,
        changes=changes,
        difference=difference["total"],
    )
    db.session.flush()
    return document


def correct_shipment_vat(shipment, user=None, day: date | None = None):
    """The УКД of a shipment whose VAT was charged at a rate not in force on its date
    (`flask correct-vat`): prices and costs without VAT stay, each line's VAT and total follow
    the rate of the shipment date. None when the shipment has no УПД or its document already
    carries those rates (the ledger entries of the change are posted by the caller)."""
    original = primary.upd_of(shipment.id)
    if original is None:
        return None
    new_states = {}
    for line in state_lines(latest_of(original)):
        state = line["state"]
        rate = tax.rate_on(line["vat_category"], shipment.shipment_date)
        if Decimal(state["vat_rate"]) == rate:
            continue
        vat = vat_on_top(Decimal(state["net"]), rate)
        new_states[line["position"]] = {
            **state,
            "vat_rate": str(rate),
            "vat_text": tax.rate_text(line["vat_category"], rate),
            "vat": primary.money_text(vat),
            "total": primary.money_text(Decimal(state["net"]) + vat),
        }
    if not new_states:
        return None
    return issue_ukd(
        original,
        new_states,
        reason=SHIPMENT_VAT_REASON.format(day=f"{shipment.shipment_date:%d.%m.%Y}"),
        day=day or max(shipment.shipment_date, clock.local_today()),
        user=user,
    )


# --- a gas month corrected after its УПД -----------------------------------------------------


def correct_gas_charge(charge, reason: str, user=None, day: date | None = None):
    """The УКД of a gas month whose charge changed after its УПД (recalculated readings, a VAT
    correction). None when the month has no УПД yet or its figures did not change (the ledger
    entries of the change are posted by the caller)."""
    original = gas_upd.gas_upd_of(charge.id)
    if original is None:
        return None
    day = day or max(gas_upd.month_end(charge.period), clock.local_today())
    line = gas_upd.gas_line(charge)
    try:
        return issue_ukd(
            original,
            {1: {key: line[key] for key in STATE_KEYS}},
            reason=reason.format(period=gas_upd.period_text(charge.period)),
            day=day,
            user=user,
        )
    except NothingToCorrect:
        return None


def documents_of_order(order_id) -> list[PrimaryDocument]:
    """The УКД of an order's shipment, in issue order (the order's «Документы» tab)."""
    return db.session.scalars(
        select(PrimaryDocument)
        .join(Shipment, Shipment.id == PrimaryDocument.shipment_id)
        .where(PrimaryDocument.kind == DocumentKind.UKD, Shipment.order_id == order_id)
        .order_by(PrimaryDocument.id)
    ).all()
