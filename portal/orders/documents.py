"""An order's documents: the invoice for payment (PDF) and the order as XLSX."""

from decimal import Decimal

from flask import current_app

from portal.money import vat_included
from portal.reports import xlsx
from portal.reports.words import rubles_in_words


def vat_by_rate(lines) -> dict[Decimal, Decimal]:
    totals: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(line.vat_rate).quantize(Decimal(1))
        totals[rate] = totals.get(rate, Decimal("0.00")) + vat_included(line.amount, rate)
    return dict(sorted(totals.items()))


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
    )


def order_xlsx(order):
    workbook, sheet = xlsx.new_write_only(f"Заказ {order.number}", (6, 12, 60, 10, 10, 14, 8, 16))
    sheet.append([xlsx.cell(sheet, f"Заказ № {order.number}", bold=True)])
    sheet.append([f"Покупатель: {order.organisation.legal_name}, ИНН {order.organisation.inn}"])
    sheet.append([f"Адрес доставки: {order.delivery_address}"])
    sheet.append([f"Дата доставки: {order.delivery_date:%d.%m.%Y}"])
    sheet.append([])
    headers = ("№", "Код", "Наименование", "Заказано", "Отгружено", "Цена", "НДС, %", "Сумма")
    sheet.append([xlsx.cell(sheet, h, bold=True) for h in headers])
    for number, line in enumerate(order.lines, start=1):
        sheet.append(
            [
                number,
                line.sku,
                line.name,
                line.quantity,
                line.shipped_quantity if line.shipped_quantity is not None else "",
                xlsx.cell(sheet, line.price),
                int(line.vat_rate),
                xlsx.cell(sheet, line.amount),
            ]
        )
    sheet.append([])
    sheet.append(
        [
            "",
            "",
            xlsx.cell(sheet, "Итого", bold=True),
            "",
            "",
            "",
            "",
            xlsx.cell(sheet, order.total, bold=True),
        ]
    )
    for rate, amount in vat_by_rate(order.lines).items():
        sheet.append(["", "", f"в т. ч. НДС {rate}%", "", "", "", "", xlsx.cell(sheet, amount)])
    return xlsx.to_temporary_file(workbook)
