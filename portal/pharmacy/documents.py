"""The shipment's series as an XLSX the buyer loads into their own acceptance system."""

from portal import billing
from portal.orders.models import Order
from portal.pharmacy.series import series_by_line, shipped_quantity
from portal.reports import xlsx

HEADERS = (
    "№",
    "Код",
    "Наименование",
    "Отгружено, уп.",
    "Серия",
    "Количество серии, уп.",
    "Годен до",
    "Декларация / сертификат",
)


def series_xlsx(order: Order) -> bytes:
    shipment = billing.shipment_of(order.id)
    by_line = series_by_line(line.id for line in order.lines)
    workbook, sheet = xlsx.new_write_only(f"Серии {order.number}", (6, 12, 60, 14, 18, 14, 12, 40))
    sheet.append([xlsx.cell(sheet, f"Серии и сроки годности, заказ № {order.number}", bold=True)])
    sheet.append([f"Покупатель: {order.organisation.legal_name}, ИНН {order.organisation.inn}"])
    if shipment is not None:
        sheet.append([f"Отгрузка № {shipment.number} от {shipment.shipment_date:%d.%m.%Y}"])
    sheet.append([])
    sheet.append([xlsx.cell(sheet, h, bold=True) for h in HEADERS])
    for number, line in enumerate(order.lines, start=1):
        rows = by_line.get(line.id) or [None]
        for row in rows:
            declaration = ""
            if row is not None:
                parts = [row.declaration or ""]
                if row.certificate is not None:
                    parts.append(f"{str(row.certificate.kind_label)} № {row.certificate.number}")
                declaration = "; ".join(part for part in parts if part)
            sheet.append(
                [
                    number,
                    line.sku,
                    line.name,
                    shipped_quantity(line),
                    row.series if row else "",
                    row.quantity if row else None,
                    xlsx.cell(sheet, row.expires_on, number_format="DD.MM.YYYY") if row else None,
                    declaration,
                ]
            )
    return xlsx.to_bytes(workbook)
