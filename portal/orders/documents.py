"""An order's documents: the invoice for payment (PDF) and the order as XLSX.

The invoice for payment is for what was ordered, taxed at the rates on the order's date; what
shipped is the shipment's document (УПД) in billing, at the rates on the shipment date.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import billing
from portal.billing import terms
from portal.billing.models import VatCategory
from portal.billing.requisites import requisite_problems
from portal.billing.tax import rate_text
from portal.errors import UserError
from portal.money import TaxedLine, document_vat, rate_key, taxed_line_from_gross
from portal.orders.models import PaymentTerms
from portal.organisations import contracts
from portal.reports import xlsx
from portal.reports.words import MONTHS_GENITIVE, rubles_in_words

log = logging.getLogger(__name__)

# The supplier's requisites an invoice for payment prints, by their SUPPLIER config key.
INVOICE_REQUISITES = {
    "name": _l("name"),
    "inn": _l("INN"),
    "kpp": _l("KPP"),
    "ogrn": _l("OGRN"),
    "address": _l("address"),
    "bank": _l("bank"),
    "bik": _l("BIK"),
    "account": _l("settlement account"),
    "corr_account": _l("correspondent account"),
    "director_position": _l("director's position"),
    "director_name": _l("director's name"),
    "accountant_position": _l("accountant's position"),
    "accountant_name": _l("accountant's name"),
}
# requisite_problems() names a problem by the text before its colon.
_PROBLEM_KEYS = {
    "INN": "inn",
    "KPP": "kpp",
    "OGRN": "ogrn",
    "BIK": "bik",
    "Account": "account",
    "Correspondent account": "corr_account",
}


def vat_by_rate(lines) -> dict[Decimal, Decimal]:
    """The order's VAT by rate: each line's tax, added up (the rule in portal.money)."""
    return document_vat(taxed_line_from_gross(line.amount, line.vat_rate) for line in lines)


def check_supplier(supplier: dict) -> None:
    """Refuse (UserError naming the field) requisites that are empty or fail a checksum."""
    for key, label in INVOICE_REQUISITES.items():
        if not str(supplier.get(key) or "").strip():
            raise UserError(
                _l(
                    "The invoice cannot be issued: the supplier's %(field)s is not filled in "
                    "(setting PORTAL_SUPPLIER_%(setting)s).",
                    field=label,
                    setting=key.upper(),
                ),
                key,
            )
    for problem in requisite_problems(supplier):
        key = _PROBLEM_KEYS.get(problem.split(":", 1)[0], problem.split(":", 1)[0])
        raise UserError(
            _l(
                "The invoice cannot be issued: the supplier's %(field)s is not valid "
                "(setting PORTAL_SUPPLIER_%(setting)s).",
                field=INVOICE_REQUISITES.get(key, key),
                setting=key.upper(),
            ),
            key,
        )


def long_date_ru(day: date) -> str:
    """«30 апреля 2026 г.»: how a Russian document writes its own date, whatever the UI language."""
    return f"{day.day} {MONTHS_GENITIVE[day.month - 1]} {day.year} г."


@dataclass(frozen=True)
class PaymentDue:
    """When the invoice is to be paid, and why then."""

    due: date
    prepayment: bool
    banking_days: int | None = None
    deferral_days: int | None = None
    # Deferred: the day the deferral runs from (the shipment, or the planned delivery).
    from_day: date | None = None
    shipped: bool = False


def payment_due(order, shipment=None) -> PaymentDue:
    """The due date of an order's invoice, by the payment terms of portal.billing.terms."""
    if order.payment_terms != PaymentTerms.DEFERRED:
        return PaymentDue(
            terms.prepayment_due(order), prepayment=True, banking_days=terms.banking_days()
        )
    start = shipment.shipment_date if shipment is not None else order.delivery_date
    return PaymentDue(
        terms.deferred_due(order.organisation, start),
        prepayment=False,
        deferral_days=terms.deferral_days(order.organisation),
        from_day=start,
        shipped=shipment is not None,
    )


def _vat_rows(lines) -> list[tuple[str, Decimal | None]]:
    """«В том числе НДС» per rate: (label, amount); lines without VAT get «Без налога (НДС)»."""
    rows = []
    taxed = [line for line in lines if line.vat_category != VatCategory.WITHOUT]
    for rate, amount in vat_by_rate(taxed).items():
        rows.append((f"В том числе НДС {rate_key(rate)}%".replace(".", ","), amount))
    if len(taxed) < len(lines):
        rows.append(("Без налога (НДС)", None))
    return rows


def invoice_context(order) -> dict:
    """Everything the invoice for payment prints; refuses missing supplier requisites."""
    supplier = current_app.config["SUPPLIER"]
    check_supplier(supplier)
    shipment = billing.shipment_of(order.id)
    return {
        "order": order,
        "supplier": supplier,
        "buyer": order.organisation,
        "invoice_date": long_date_ru(terms.local_date(order.created_at)),
        "contract": contracts.contract_of(order.organisation),
        "lines": [
            {
                "line": line,
                "vat": rate_text(line.vat_category or VatCategory.GENERAL, line.vat_rate),
            }
            for line in order.lines
        ],
        "vat_rows": _vat_rows(order.lines),
        "total_in_words": rubles_in_words(order.total),
        "shipment": shipment,
        "payment": payment_due(order, shipment),
    }


def invoice_pdf(order) -> bytes:
    """«Счёт на оплату» in the usual form: the bank block, both parties, the contract, lines
    with VAT per rate, the due date, the total in words and the signature lines."""
    from portal.reports.pdf import render_pdf  # WeasyPrint: ~25 MB, loaded on first use

    return render_pdf("orders/invoice_pdf.html", **invoice_context(order))


def order_xlsx(order):
    shipment = billing.shipment_of(order.id)
    shipped_lines = {line.order_line_id: line for line in shipment.lines} if shipment else {}
    workbook, sheet = xlsx.new_write_only(
        f"Заказ {order.number}", (6, 12, 60, 10, 14, 8, 16, 10, 16)
    )
    sheet.append([xlsx.cell(sheet, f"Заказ № {order.number}", bold=True)])
    sheet.append([f"Покупатель: {order.organisation.legal_name}, ИНН {order.organisation.inn}"])
    sheet.append([f"Адрес доставки: {order.delivery_address}"])
    sheet.append([f"Дата доставки: {order.delivery_date:%d.%m.%Y}"])
    if shipment is not None:
        sheet.append([f"Отгрузка: УПД № {shipment.number} от {shipment.shipment_date:%d.%m.%Y}"])
    sheet.append([])
    headers = (
        "№",
        "Код",
        "Наименование",
        "Заказано",
        "Цена",
        "НДС",
        "Сумма заказа",
        "Отгружено",
        "Сумма отгрузки",
    )
    sheet.append([xlsx.cell(sheet, h, bold=True) for h in headers])
    for number, line in enumerate(order.lines, start=1):
        shipped = shipped_lines.get(line.id)
        shipped_quantity = line.shipped_quantity
        if shipment is not None and shipped_quantity is None:
            shipped_quantity = shipped.quantity if shipped else 0
        sheet.append(
            [
                number,
                line.sku,
                line.name,
                line.quantity,
                xlsx.cell(sheet, line.price),
                f"{rate_key(line.vat_rate)}%",
                xlsx.cell(sheet, line.amount),
                shipped_quantity if shipped_quantity is not None else "",
                xlsx.cell(sheet, shipped.amount) if shipped else "",
            ]
        )
    sheet.append([])
    total_row = ["", "", xlsx.cell(sheet, "Итого", bold=True), "", "", ""]
    total_row.append(xlsx.cell(sheet, order.total, bold=True))
    if shipment is not None:
        total_row += ["", xlsx.cell(sheet, shipment.total, bold=True)]
    sheet.append(total_row)
    ordered_vat = vat_by_rate(order.lines)
    shipped_vat = (
        document_vat(
            TaxedLine(line.net_amount, line.vat_amount, line.amount, line.vat_rate)
            for line in shipment.lines
        )
        if shipment
        else {}
    )
    for rate in sorted(set(ordered_vat) | set(shipped_vat)):
        row = ["", "", f"в т. ч. НДС {rate}%", "", "", ""]
        row.append(xlsx.cell(sheet, ordered_vat[rate]) if rate in ordered_vat else "")
        if shipment is not None:
            row += ["", xlsx.cell(sheet, shipped_vat[rate]) if rate in shipped_vat else ""]
        sheet.append(row)
    return xlsx.to_temporary_file(workbook)
