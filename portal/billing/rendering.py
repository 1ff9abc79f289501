"""The statement as PDF (WeasyPrint) and XLSX (openpyxl), both from one Statement.

The statement is a Russian accounting document exchanged between the parties, so its
wording is Russian whatever language the user's interface is in.
"""

from decimal import Decimal

from portal.reports import xlsx
from portal.reports.words import rubles_in_words

TITLE = "Акт сверки взаимных расчётов"


def amount(value: Decimal | None) -> str:
    """1234567.5 -> '1 234 567,50' (plain spaces, so text extraction reads it back)."""
    if value is None or value == 0:
        return ""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def conclusion(statement) -> str:
    supplier = statement.supplier["name"]
    customer = statement.organisation.legal_name
    day = statement.end.strftime("%d.%m.%Y")
    closing = statement.closing
    if closing > 0:
        return (
            f"По данным {supplier} на {day} задолженность в пользу {supplier} составляет "
            f"{amount(closing)} руб. ({rubles_in_words(closing)})."
        )
    if closing < 0:
        return (
            f"По данным {supplier} на {day} задолженность в пользу {customer} составляет "
            f"{amount(-closing)} руб. ({rubles_in_words(-closing)})."
        )
    return f"По данным {supplier} на {day} задолженность отсутствует."


def statement_pdf(statement) -> bytes:
    from portal.reports.pdf import render_pdf  # WeasyPrint: ~25 MB, loaded on first use

    return render_pdf(
        "billing/statement_pdf.html",
        s=statement,
        title=TITLE,
        amount=amount,
        conclusion=conclusion(statement),
    )


def period_text(statement) -> str:
    return f"за период с {statement.start:%d.%m.%Y} по {statement.end:%d.%m.%Y}"


def statement_xlsx(statement) -> bytes:
    workbook, sheet = xlsx.new_write_only("Акт сверки", column_widths=(6, 12, 18, 48, 16, 16))
    c = xlsx.cell
    customer = statement.organisation
    supplier = statement.supplier
    sheet.append([c(sheet, TITLE, bold=True)])
    sheet.append([c(sheet, period_text(statement))])
    sheet.append(
        [
            c(
                sheet,
                f"между {supplier['name']} (ИНН {supplier['inn']}) и {customer.legal_name} "
                f"(ИНН {customer.inn})",
            )
        ]
    )
    if statement.contract_label:
        sheet.append([c(sheet, f"по договору: {statement.contract_label}")])
    sheet.append([])
    header = ["№", "Дата", "Документ", "Содержание операции", "Дебет", "Кредит"]
    sheet.append([c(sheet, h, bold=True) for h in header])
    sheet.append(
        [
            None,
            None,
            None,
            c(sheet, "Сальдо начальное", bold=True),
            c(sheet, statement.opening_debit),
            c(sheet, statement.opening_credit),
        ]
    )
    for number, line in enumerate(statement.lines, start=1):
        sheet.append(
            [
                number,
                c(sheet, line.entry_date, number_format=xlsx.DATE_FORMAT),
                line.document_number,
                line.description,
                c(sheet, line.debit),
                c(sheet, line.credit),
            ]
        )
    sheet.append(
        [
            None,
            None,
            None,
            c(sheet, "Обороты за период", bold=True),
            c(sheet, statement.turnover_debit, bold=True),
            c(sheet, statement.turnover_credit, bold=True),
        ]
    )
    sheet.append(
        [
            None,
            None,
            None,
            c(sheet, "Сальдо конечное", bold=True),
            c(sheet, statement.closing_debit, bold=True),
            c(sheet, statement.closing_credit, bold=True),
        ]
    )
    sheet.append([])
    sheet.append([c(sheet, conclusion(statement))])
    sheet.append([])
    sheet.append([c(sheet, "Реквизиты сторон", bold=True)])
    sheet.append(
        [
            c(
                sheet,
                f"Поставщик: {supplier['name']}, ИНН {supplier['inn']}, КПП {supplier['kpp']}, "
                f"{supplier['address']}, р/с {supplier['account']} в {supplier['bank']}, "
                f"БИК {supplier['bik']}",
            )
        ]
    )
    sheet.append(
        [
            c(
                sheet,
                f"Покупатель: {customer.legal_name}, ИНН {customer.inn}, "
                f"КПП {customer.kpp or '—'}, "
                f"{customer.legal_address or ''} {customer.bank_details or ''}".strip(),
            )
        ]
    )
    sheet.append([])
    sheet.append([c(sheet, "От поставщика: ____________ / ____________ /  М.П.")])
    sheet.append([c(sheet, "От покупателя: ____________ / ____________ /  М.П.")])
    return xlsx.to_bytes(workbook)
