"""An order's documents: the invoice for payment (PDF) and the order as XLSX.

The invoice for payment is for what was ordered, taxed at the rates on the order's date; what
shipped is the shipment's document (УПД) in billing, at the rates on the shipment date.
"""

from decimal import Decimal

from flask import current_app

from portal import billing
from portal.money import TaxedLine, document_vat, rate_key, taxed_line_from_gross
from portal.reports import xlsx
from portal.reports.words import rubles_in_words


def vat_by_rate(lines) -> dict[Decimal, Decimal]:
    """The order's VAT by rate: each line's tax, added up (the rule in portal.money)."""
    return document_vat(taxed_line_from_gross(line.amount, line.vat_rate) for line in lines)


def invoice_pdf(order) -> bytes:
    """«Счёт на оплату» with both parties' requisites, VAT by rate and the total in words."""
    from portal.reports.pdf import render_pdf  # WeasyPrint: ~25 MB, loaded on first use

    return render_pdf(
        "orders/invoice_pdf.html",
        order=order,
        supplier=current_app.config["SUPPLIER"],
        buyer=order.organisation,
        vat=vat_by_rate(order.lines),
        total_in_words=rubles_in_words(order.total),
        shipment=billing.shipment_of(order.id),
    )


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
