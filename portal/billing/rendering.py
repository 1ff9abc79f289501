"""The «Акт сверки» as PDF (WeasyPrint) and XLSX (openpyxl), both from one Statement.

The act is a Russian accounting document exchanged between the parties, so its wording is
Russian whatever language the user's interface is in. Both files print the rows of `act_rows`
and the sentences below, so their figures cannot differ.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.reports import xlsx
from portal.reports.words import rubles_in_words

TITLE = "Акт сверки взаимных расчётов"
BLANK = "____________________"


def amount(value: Decimal | None) -> str:
    """1234567.5 -> '1 234 567,50' (plain spaces, so text extraction reads it back)."""
    if value is None or value == 0:
        return ""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


@dataclass
class ActRow:
    day: date | None
    document: str
    debit: Decimal
    credit: Decimal
    total: bool = False  # the opening, turnover and closing rows
    url: str | None = None  # the line's primary document (a link in the PDF and the XLSX)


def act_rows(statement) -> list[ActRow]:
    """The supplier's half of the table, row by row."""
    rows = [
        ActRow(None, "Сальдо начальное", statement.opening_debit, statement.opening_credit, True)
    ]
    rows += [
        ActRow(line.entry_date, line.document, line.debit, line.credit, url=line.url)
        for line in statement.lines
    ]
    rows.append(
        ActRow(None, "Обороты за период", statement.turnover_debit, statement.turnover_credit, True)
    )
    rows.append(
        ActRow(None, "Сальдо конечное", statement.closing_debit, statement.closing_credit, True)
    )
    return rows


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


def unallocated_text(statement) -> list[str]:
    """What the act says about payments not yet applied to documents."""
    day = statement.end.strftime("%d.%m.%Y")
    sentences = []
    if statement.contract_id is not None:
        sentences.append(
            f"Оплаты по договору, не распределённые по документам, на {day}: "
            f"{amount(statement.unallocated) or '0,00'} руб."
        )
        if statement.unallocated_elsewhere:
            sentences.append(
                f"Оплаты без указания договора, не распределённые по документам, на {day}: "
                f"{amount(statement.unallocated_elsewhere)} руб. (в акт по договору не включены)."
            )
    elif statement.unallocated:
        sentences.append(
            f"В том числе оплаты, не распределённые по документам, на {day}: "
            f"{amount(statement.unallocated)} руб."
        )
    return sentences


def parties_text(statement) -> str:
    supplier = statement.supplier
    signer = " ".join(
        part for part in (supplier["director_position"].lower(), supplier["director_name"]) if part
    )
    return (
        f"Мы, нижеподписавшиеся, {signer} {supplier['name']}, с одной стороны, и "
        f"{BLANK} {statement.organisation.legal_name}, с другой стороны, составили настоящий "
        "акт сверки в том, что состояние взаимных расчётов по данным учёта следующее:"
    )


def period_text(statement) -> str:
    return f"за период с {statement.start:%d.%m.%Y} по {statement.end:%d.%m.%Y}"


def between_text(statement) -> str:
    return f"между {statement.supplier['name']} и {statement.organisation.legal_name}"


def contract_text(statement) -> str | None:
    if statement.contract_id is None:
        return None
    return f"по договору № {statement.contract_number or statement.contract_label}"


def supplier_requisites_text(supplier) -> str:
    parts = [supplier["name"], f"ИНН {supplier['inn']}", f"КПП {supplier['kpp']}"]
    if supplier.get("ogrn"):
        parts.append(f"ОГРН {supplier['ogrn']}")
    parts += [
        supplier["address"],
        f"р/с {supplier['account']} в {supplier['bank']}",
        f"БИК {supplier['bik']}",
        f"к/с {supplier['corr_account']}",
    ]
    return ", ".join(parts)


def customer_requisites_text(customer) -> str:
    parts = [customer.legal_name, f"ИНН {customer.inn}"]
    if customer.kpp:
        parts.append(f"КПП {customer.kpp}")
    if customer.ogrn:
        parts.append(f"ОГРН {customer.ogrn}")
    if customer.legal_address:
        parts.append(customer.legal_address)
    if customer.bank_details:
        parts.append(customer.bank_details)
    return ", ".join(parts)


def signature_lines(statement) -> tuple[list[str], list[str]]:
    """The two signature blocks: position, signature / name /, М.П."""
    supplier = statement.supplier
    director = supplier["director_name"] or BLANK
    accountant = supplier["accountant_name"] or BLANK
    ours = [
        f"От {supplier['name']}",
        f"{supplier['director_position']} ____________ / {director} /",
        f"{supplier['accountant_position']} ____________ / {accountant} /",
        "М.П.",
    ]
    theirs = [
        f"От {statement.organisation.legal_name}",
        f"{BLANK} (должность) ____________ / {BLANK} /",
        f"Главный бухгалтер ____________ / {BLANK} /",
        "М.П.",
    ]
    return ours, theirs


def statement_pdf(statement) -> bytes:
    from portal.reports.pdf import render_pdf  # WeasyPrint: ~25 MB, loaded on first use

    ours, theirs = signature_lines(statement)
    return render_pdf(
        "billing/statement_pdf.html",
        s=statement,
        title=TITLE,
        amount=amount,
        rows=act_rows(statement),
        period=period_text(statement),
        between=between_text(statement),
        contract=contract_text(statement),
        parties=parties_text(statement),
        conclusion=conclusion(statement),
        unallocated=unallocated_text(statement),
        supplier_requisites=supplier_requisites_text(statement.supplier),
        customer_requisites=customer_requisites_text(statement.organisation),
        our_signature=ours,
        their_signature=theirs,
    )


def statement_xlsx(statement) -> bytes:
    # The supplier's half in A-D, the counterparty's half (to be filled in) in F-I.
    workbook, sheet = xlsx.new_write_only(
        "Акт сверки", column_widths=(12, 60, 16, 16, 2, 12, 40, 16, 16)
    )
    c = xlsx.cell
    customer = statement.organisation
    supplier = statement.supplier
    sheet.append([c(sheet, TITLE, bold=True)])
    sheet.append([c(sheet, period_text(statement))])
    sheet.append([c(sheet, between_text(statement))])
    if statement.contract_id is not None:
        sheet.append([c(sheet, contract_text(statement))])
    sheet.append([c(sheet, parties_text(statement))])
    sheet.append([])
    sheet.append(
        [
            c(sheet, f"По данным {supplier['name']}, руб.", bold=True),
            None,
            None,
            None,
            None,
            c(sheet, f"По данным {customer.legal_name}, руб.", bold=True),
        ]
    )
    half = ["Дата", "Документ", "Дебет", "Кредит"]
    sheet.append(
        [c(sheet, h, bold=True) for h in half] + [None] + [c(sheet, h, bold=True) for h in half]
    )
    for row in act_rows(statement):
        day = c(sheet, row.day, number_format=xlsx.DATE_FORMAT) if row.day else None
        theirs = [None, c(sheet, row.document, bold=True), None, None] if row.total else []
        document = c(sheet, row.document, bold=row.total)
        if row.url:
            document.hyperlink = row.url
        sheet.append(
            [
                day,
                document,
                c(sheet, row.debit, bold=row.total) if row.debit else None,
                c(sheet, row.credit, bold=row.total) if row.credit else None,
                None,
                *theirs,
            ]
        )
    sheet.append([])
    sheet.append([c(sheet, conclusion(statement))])
    for sentence in unallocated_text(statement):
        sheet.append([c(sheet, sentence)])
    sheet.append([None, None, None, None, None, c(sheet, f"По данным {customer.legal_name}:")])
    sheet.append(
        [None, None, None, None, None, c(sheet, f"на {BLANK} задолженность в пользу {BLANK}")]
    )
    sheet.append([None, None, None, None, None, c(sheet, f"составляет {BLANK} руб.")])
    sheet.append([])
    sheet.append([c(sheet, "Реквизиты сторон", bold=True)])
    sheet.append([c(sheet, "Поставщик: " + supplier_requisites_text(supplier))])
    sheet.append([c(sheet, "Покупатель: " + customer_requisites_text(customer))])
    sheet.append([])
    ours, theirs = signature_lines(statement)
    for left, right in zip(ours, theirs, strict=True):
        sheet.append([c(sheet, left), None, None, None, None, c(sheet, right)])
    return xlsx.to_bytes(workbook)
