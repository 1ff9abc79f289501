"""The monthly УПД of a gas contract: one line (the month's gas), issued from the posted
charge, numbered in its own series («Г») and frozen like every primary document
(portal.billing.primary)."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import select

from portal.billing import okei, primary, tax
from portal.billing.models import DocumentKind, PrimaryDocument
from portal.extensions import db
from portal.money import rate_key
from portal.reports.words import MONTHS_NOMINATIVE

THOUSAND = Decimal(1000)


def period_text(period: date) -> str:
    return f"{MONTHS_NOMINATIVE[period.month - 1]} {period.year} г."


def gas_upd_of(charge_id) -> PrimaryDocument | None:
    return db.session.scalar(
        select(PrimaryDocument).where(
            PrimaryDocument.kind == DocumentKind.UPD, PrimaryDocument.gas_charge_id == charge_id
        )
    )


def gas_line(charge) -> dict:
    """The one line of a contract-month as the document prints it (from the charge as posted).

    Quantity: тыс. м³ to three decimals; price: the tariff per 1,000 m³ without VAT (the
    month's net over its quantity when two tariffs shared the month); VAT at the rate the
    charge bears (the rate of its category on the last day of the month).
    """
    from portal.money import to_money

    contract = charge.contract
    tax_date = month_end(charge.period)
    thousands = (Decimal(charge.volume) / THOUSAND).quantize(Decimal("0.001"), ROUND_HALF_UP)
    tariff = contract.tariff_on(tax_date)
    net = to_money(charge.net_amount)
    if tariff is not None and to_money(thousands * tariff.price_per_thousand) == net:
        price = Decimal(tariff.price_per_thousand)
    else:
        price = (net / thousands).quantize(Decimal("0.01")) if thousands else Decimal("0.00")
    category = tariff.vat_category if tariff is not None else "general"
    rate = charge.vat_rate
    if rate is None:
        rate = (charge.vat_amount * 100 / net).quantize(Decimal("0.01")) if net else Decimal(0)
    return {
        "position": 1,
        "code": "ГАЗ",
        "name": (
            f"Газ горючий природный за {period_text(charge.period)} (договор № {contract.number})"
        ),
        "kind_code": "",
        "unit_code": "114",
        "unit_name": okei.unit_name("114"),
        "quantity": str(thousands),
        "volume_m3": str(Decimal(charge.volume).quantize(Decimal("0.001"))),
        "price": primary.money_text(price),
        "net": primary.money_text(net),
        "excise": "без акциза",
        "vat_category": str(category),
        "vat_rate": primary.money_text(rate),
        "vat_text": tax.rate_text(category, rate),
        "vat": primary.money_text(charge.vat_amount),
        "total": primary.money_text(charge.total),
        "country_code": "",
        "country_name": "",
        "declaration": "",
        "series": "",
        "expires_on": "",
    }


def month_end(period: date) -> date:
    from portal import clock

    return clock.month_end(period)


def seller_of(supplier: dict) -> dict:
    return {
        "name": supplier["name"],
        "inn": supplier["inn"],
        "kpp": supplier["kpp"],
        "address": supplier["address"],
    }


def gas_snapshot(charge, number: str, supplier: dict) -> dict:
    """Everything the monthly gas УПД of a contract prints (one line per contract-month)."""
    contract = charge.contract
    buyer = contract.organisation
    day = month_end(charge.period)
    line = gas_line(charge)
    # dd.mm.yyyy, as the goods' УПД records its supply contract (one shape for both).
    contract_info = {"number": contract.number, "date": f"{contract.start_date:%d.%m.%Y}"}
    basis = f"Договор поставки газа № {contract.number} от {contract.start_date:%d.%m.%Y}"
    seller = seller_of(supplier)
    return {
        "version": primary.SNAPSHOT_VERSION,
        "kind": DocumentKind.UPD.value,
        "subject": "gas",
        "status": 1,
        "number": number,
        "date": day.isoformat(),
        "period": charge.period.isoformat(),
        "period_text": period_text(charge.period),
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": seller,
        "consignor": {**seller, "note": "он же"},
        "consignee": primary.party(buyer),
        "buyer": primary.party(buyer),
        "shipment_document": {"positions": "1", "number": number, "date": day.isoformat()},
        "order": None,
        "contract": contract_info,
        "basis": basis,
        "transfer_note": f"поставка газа за {period_text(charge.period)}",
        "gas_act": bool(getattr(contract, "gas_act_required", False)),
        "lines": [line],
        "totals": {
            "net": line["net"],
            "vat": line["vat"],
            "total": line["total"],
            "vat_by_rate": {str(rate_key(Decimal(line["vat_rate"]))): line["vat"]},
        },
        "signatures": primary.signatures_of(supplier, ""),
        "shipped_on": day.isoformat(),
    }


def issue_gas_upd(charge, user=None) -> PrimaryDocument | None:
    """Issue the monthly УПД of a posted gas charge (once; None for a month of no gas)."""
    existing = gas_upd_of(charge.id)
    if existing is not None:
        return existing
    if not charge.volume and not charge.total:
        return None
    supplier = current_app.config["SUPPLIER"]
    primary.check_requisites(supplier)
    day = month_end(charge.period)
    number = primary.next_number(DocumentKind.UPD, primary.GAS_SERIES, day.year)
    printed = f"{primary.GAS_SERIES}-{number}"
    return primary.store_document(
        gas_snapshot(charge, printed, supplier),
        kind=DocumentKind.UPD,
        series=primary.GAS_SERIES,
        number=number,
        day=day,
        organisation_id=charge.organisation_id,
        user=user,
        refs={"gas_charge_id": charge.id},
        details={
            "number": printed,
            "contract": charge.contract.number,
            "period": f"{charge.period:%Y-%m}",
        },
    )


def issue_missing_gas_upds() -> int:
    """The УПД of every posted gas charge that has none yet (an existing database, the demo):
    safe to run again. The figures are the charge's as it stands now."""
    from portal.billing.models import GasCharge

    issued = 0
    charges = db.session.scalars(
        select(GasCharge)
        .outerjoin(
            PrimaryDocument,
            (PrimaryDocument.gas_charge_id == GasCharge.id)
            & (PrimaryDocument.kind == DocumentKind.UPD),
        )
        .where(PrimaryDocument.id.is_(None), GasCharge.ledger_entry_id.is_not(None))
        .order_by(GasCharge.period, GasCharge.contract_id)
    ).all()
    for charge in charges:
        if issue_gas_upd(charge) is not None:
            issued += 1
    db.session.flush()
    return issued


def gas_documents_of_contract(contract_id) -> dict:
    """{period: [УПД, УКД …]} of a contract's months, for the pages that show gas charges."""
    from portal.billing.models import GasCharge

    rows = db.session.execute(
        select(GasCharge.period, PrimaryDocument)
        .join(PrimaryDocument, PrimaryDocument.gas_charge_id == GasCharge.id)
        .where(GasCharge.contract_id == contract_id)
        .order_by(GasCharge.period, PrimaryDocument.id)
    ).all()
    documents: dict = {}
    for period, document in rows:
        documents.setdefault(period, []).append(document)
    return documents
