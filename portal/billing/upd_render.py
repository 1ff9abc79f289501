"""The УПД as PDF (landscape A4, the layout of the official form), XLSX and a month's ZIP.

Every renderer reads the document's frozen snapshot only (portal.billing.primary.snapshot_of):
the catalogue, the order or a rate changed later never reach an issued document.
"""

import copy
import tempfile
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app, render_template

from portal.billing.models import DocumentKind
from portal.billing.primary import snapshot_of
from portal.errors import UserError
from portal.reports import xlsx
from portal.reports.words import MONTHS_GENITIVE

NBSP = "\u00a0"


def amount_text(value: str, places: int = 2) -> str:
    """'1234567.50' -> '1 234 567,50' (as the form prints money: no currency sign)."""
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):.{places}f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{NBSP.join(groups)},{fraction}"


def _day(iso: str) -> str:
    return "" if not iso else date.fromisoformat(iso).strftime("%d.%m.%Y")


def _day_in_words(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"«{day.day:02d}» {MONTHS_GENITIVE[day.month - 1]} {day.year} г."


def quantity_text(value: str) -> str:
    """'5' -> '5'; '12.345' (тыс. м³) -> '12,345' (a decimal comma, as the form prints it)."""
    return value.replace(".", ",")


def display(snapshot: dict) -> dict:
    """The snapshot with dates as dd.mm.yyyy and amounts as the form prints them."""
    doc = copy.deepcopy(snapshot)
    doc["date"] = _day(doc["date"])
    doc["shipment_document"]["date"] = _day(doc["shipment_document"]["date"])
    if doc.get("order"):
        doc["order"]["date"] = _day(doc["order"]["date"])
    if doc.get("contract") and doc["contract"].get("date", "").count("-") == 2:
        doc["contract"]["date"] = _day(doc["contract"]["date"])
    for line in doc["lines"]:
        line["quantity"] = quantity_text(line["quantity"])
        if "volume_m3" in line:
            line["volume_m3"] = amount_text(line["volume_m3"], places=3)
        for key in ("price", "net", "vat", "total"):
            line[key] = amount_text(line[key])
    for key in ("net", "vat", "total"):
        doc["totals"][key] = amount_text(doc["totals"][key])
    return doc


def display_ukd(snapshot: dict) -> dict:
    """A УКД's snapshot as the form prints it: before (А), after (Б), increase (В), decrease (Г)."""
    doc = copy.deepcopy(snapshot)
    doc["date"] = _day(doc["date"])
    doc["original"]["date"] = _day(doc["original"]["date"])
    doc["corrects"]["date"] = _day(doc["corrects"]["date"])
    for line in doc["lines"]:
        for part in ("before", "after", "increase", "decrease"):
            figures = line[part]
            figures["quantity"] = quantity_text(figures["quantity"])
            for key in ("price", "net", "vat", "total"):
                if key in figures:
                    figures[key] = amount_text(figures[key])
    for part in ("increase", "decrease", "difference"):
        for key in ("net", "vat", "total"):
            doc["totals"][part][key] = amount_text(doc["totals"][part][key])
    return doc


def file_stem(document, what: str | None = None) -> str:
    """upd-2026-12, upd-2026-Г-7, ukd-2026-К-3, act-2026-Г-7: unique per document."""
    what = what or ("ukd" if document.kind == DocumentKind.UKD else "upd")
    return f"{what}-{document.year}-{document.printed_number}"


def _render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # ~25 MB, loaded on first use

    from portal.reports.pdf import STATIC_SCHEME, make_url_fetcher

    fetcher = make_url_fetcher(Path(current_app.static_folder))

    def render(sheets, first_line=0, tail=False, page_offset=0, column_widths=()):
        html = render_template(
            template,
            sheets=sheets,
            first_line=first_line,
            tail=tail,
            page_offset=page_offset,
            column_widths=column_widths,
            **context,
        )
        return HTML(string=html, url_fetcher=fetcher, base_url=STATIC_SCHEME).render()

    rendered = render(1)
    pages = len(rendered.pages)
    if pages == 1:
        return rendered.write_pdf()
    return _with_sheet_count(rendered, pages, render).write_pdf()


def _with_sheet_count(rendered, pages, render):
    """The document with «Документ составлен на N листах» right, without a second layout.

    The count is printed after the table (its cell has a fixed size, so the number never moves
    a page break). Only the pages from the one holding the last line on are laid out again,
    with the count: the lines of that page, then everything after the table, which starts that
    page exactly as the table header repeated at its top does, with the columns as wide as
    the whole table's (they were computed from every line). If that tail does not come out as
    the same number of pages, the whole document is laid out again with the count.
    """
    from weasyprint.formatting_structure.boxes import TableBox

    last_page = max(
        (
            index
            for index, page in enumerate(rendered.pages)
            if any(anchor.startswith("upd-line-") for anchor in page.anchors)
        ),
        default=0,  # a document without numbered lines (УКД, act): laid out again whole
    )
    if last_page > 0:
        first = min(
            int(anchor.removeprefix("upd-line-"))
            for anchor in rendered.pages[last_page].anchors
            if anchor.startswith("upd-line-")
        )
        widths = next(
            (
                box.column_widths
                for box in rendered.pages[last_page]._page_box.descendants()
                if isinstance(box, TableBox) and "lines" in (box.element.get("class") or "")
            ),
            None,
        )
        if widths:
            tail = render(
                pages,
                first_line=first - 1,
                tail=True,
                page_offset=last_page,
                column_widths=[repr(float(width)) for width in widths],
            )
            if len(tail.pages) == pages - last_page:
                return rendered.copy(rendered.pages[:last_page] + tail.pages)
    return render(pages)


def upd_pdf(document) -> bytes:
    snapshot = snapshot_of(document)
    context = {
        "doc": display(snapshot),
        "shipped_on_words": _day_in_words(snapshot["shipped_on"]),
    }
    return _render_pdf("billing/upd_pdf.html", context)


def ukd_pdf(document) -> bytes:
    return _render_pdf("billing/ukd_pdf.html", {"doc": display_ukd(snapshot_of(document))})


def has_gas_act(document) -> bool:
    if document.kind != DocumentKind.UPD or document.gas_charge_id is None:
        return False
    return bool(snapshot_of(document).get("gas_act"))


def gas_act_pdf(document) -> bytes:
    """The «Акт приёма-передачи газа» of a gas month: the same figures as its УПД."""
    doc = display(snapshot_of(document))
    return _render_pdf("billing/gas_act_pdf.html", {"doc": doc, "line": doc["lines"][0]})


def document_pdf(document) -> bytes:
    return ukd_pdf(document) if document.kind == DocumentKind.UKD else upd_pdf(document)


XLSX_HEADERS = (
    "№ п/п",
    "Код товара",
    "Наименование товара",
    "Код вида товара",
    "Единица измерения: код",
    "Единица измерения: условное обозначение",
    "Количество (объем)",
    "Цена (тариф) за единицу измерения",
    "Стоимость без налога — всего",
    "В том числе сумма акциза",
    "Налоговая ставка",
    "Сумма налога, предъявляемая покупателю",
    "Стоимость с налогом — всего",
    "Страна происхождения: цифровой код",
    "Страна происхождения: краткое наименование",
    "Регистрационный номер декларации или партии",
    "Серия",
    "Срок годности",
)
HEADER_NUMBERS = (
    "А",
    "Б",
    "1",
    "1а",
    "2",
    "2а",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "10а",
    "11",
    "—",
    "—",
)


def quantity_value(text: str, sheet=None):
    """Packs as a whole number, тыс. м³ as a number with three places (as the PDF prints)."""
    if "." not in text:
        return int(text)
    return xlsx.cell(sheet, Decimal(text), number_format="0.000") if sheet else Decimal(text)


def upd_xlsx(document):
    """The same figures as the PDF: amounts as numbers (to the kopeck), text as text."""
    doc = snapshot_of(document)
    widths = (6, 12, 48, 8, 8, 10, 10, 14, 16, 12, 9, 14, 16, 9, 14, 18, 12, 12)
    workbook, sheet = xlsx.new_write_only(f"УПД {document.printed_number}", widths)
    title = f"Универсальный передаточный документ. Счет-фактура № {doc['number']} от "
    sheet.append([xlsx.cell(sheet, title + _day(doc["date"]), bold=True)])
    sheet.append(["Статус", doc["status"]])
    seller, buyer = doc["seller"], doc["buyer"]
    consignor, consignee = doc["consignor"], doc["consignee"]
    shipment = doc["shipment_document"]
    rows = (
        ("Продавец (2)", seller["name"]),
        ("Адрес (2а)", seller["address"]),
        ("ИНН/КПП продавца (2б)", f"{seller['inn']}/{seller['kpp']}"),
        (
            "Грузоотправитель и его адрес (3)",
            f"{consignor['note']}: {consignor['name']}, {consignor['address']}",
        ),
        ("Грузополучатель и его адрес (4)", f"{consignee['name']}, {consignee['address']}"),
        (
            "Документ об отгрузке (5а)",
            f"№ п/п {shipment['positions']} № {shipment['number']} от "
            f"{_day(shipment['date'])}; {doc['basis']}",
        ),
        ("Покупатель (6)", buyer["name"]),
        ("Адрес (6а)", buyer["address"]),
        ("ИНН/КПП покупателя (6б)", f"{buyer['inn']}/{buyer['kpp'] or '—'}"),
        ("Валюта: наименование, код (7)", f"{doc['currency']['name']}, {doc['currency']['code']}"),
    )
    for label, value in rows:
        sheet.append([label, "", value])
    sheet.append([])
    sheet.append([xlsx.cell(sheet, header, bold=True, wrap=True) for header in XLSX_HEADERS])
    sheet.append(list(HEADER_NUMBERS))
    for line in doc["lines"]:
        sheet.append(
            [
                line["position"],
                line["code"],
                line["name"],
                line["kind_code"] or "--",
                line["unit_code"],
                line["unit_name"],
                quantity_value(line["quantity"], sheet),
                xlsx.cell(sheet, Decimal(line["price"])),
                xlsx.cell(sheet, Decimal(line["net"])),
                line["excise"],
                line["vat_text"],
                xlsx.cell(sheet, Decimal(line["vat"])),
                xlsx.cell(sheet, Decimal(line["total"])),
                line["country_code"] or "--",
                line["country_name"] or "--",
                line["declaration"] or "--",
                line["series"],
                line["expires_on"],
            ]
        )
    totals = doc["totals"]
    sheet.append(
        [xlsx.cell(sheet, "Всего к оплате (9)", bold=True)]
        + [""] * 7
        + [
            xlsx.cell(sheet, Decimal(totals["net"]), bold=True),
            "Х",
            "Х",
            xlsx.cell(sheet, Decimal(totals["vat"]), bold=True),
            xlsx.cell(sheet, Decimal(totals["total"]), bold=True),
        ]
    )
    sheet.append([])
    signatures = doc["signatures"]
    sheet.append(
        ["Основание передачи (сдачи) / получения (приемки) [8]", "", doc["basis"]],
    )
    sheet.append(
        [
            "Товар (груз) передал [10]",
            "",
            f"{signatures['handed_over']['position']} {signatures['handed_over']['name']}",
        ]
    )
    sheet.append(["Дата отгрузки, передачи (сдачи) [11]", "", _day(doc["shipped_on"])])
    sheet.append(
        [
            "Ответственный за правильность оформления [13]",
            "",
            f"{signatures['responsible']['position']} {signatures['responsible']['name']}",
        ]
    )
    sheet.append(["Товар (груз) получил [15]", "", signatures["received"]["name"]])
    sheet.append(
        ["Руководитель организации", "", signatures["director"]["name"]],
    )
    sheet.append(["Главный бухгалтер", "", signatures["accountant"]["name"]])
    return xlsx.to_temporary_file(workbook)


def month_zip(documents):
    """Every document's PDF and ФНС XML in one ZIP (a temporary file, rewound).

    The PDF is named by the number, the XML by its ИдФайл as the format requires; without the
    supplier's ЭДО identifier the ZIP holds the PDFs only (the XML download says why).
    """
    from portal.billing import fns_xml

    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the caller streams and closes it
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            archive.writestr(f"{file_stem(document)}.pdf", document_pdf(document))
            if has_gas_act(document):
                archive.writestr(f"{file_stem(document, 'act')}.pdf", gas_act_pdf(document))
            try:
                name, content = fns_xml.document_xml(document)
            except UserError:
                continue
            archive.writestr(name, content)
    handle.seek(0)
    return handle


UKD_HEADERS = (
    "№ п/п",
    "Код товара",
    "Наименование товара",
    "Единица измерения: код",
    "Единица измерения: условное обозначение",
    "Строка",
    "Количество (объем)",
    "Цена (тариф) за единицу измерения",
    "Стоимость без налога — всего",
    "В том числе сумма акциза",
    "Налоговая ставка",
    "Сумма налога",
    "Стоимость с налогом — всего",
)
UKD_ROWS = (
    ("before", "А (до изменения)"),
    ("after", "Б (после изменения)"),
    ("increase", "В (увеличение)"),
    ("decrease", "Г (уменьшение)"),
)


def ukd_xlsx(document):
    """The УКД's figures as the PDF prints them: four rows per line (А, Б, В, Г), the totals."""
    doc = snapshot_of(document)
    widths = (6, 12, 48, 8, 10, 20, 12, 14, 16, 12, 9, 14, 16)
    workbook, sheet = xlsx.new_write_only(f"УКД {document.printed_number}", widths)
    title = (
        "Универсальный корректировочный документ. "
        f"Корректировочный счет-фактура № {doc['number']} от "
    )
    sheet.append([xlsx.cell(sheet, title + _day(doc["date"]), bold=True)])
    sheet.append(["Статус", doc["status"]])
    seller, buyer = doc["seller"], doc["buyer"]
    rows = (
        (
            "К счету-фактуре (1б)",
            f"№ {doc['original']['number']} от {_day(doc['original']['date'])}",
        ),
        (
            "Корректирует документ",
            f"№ {doc['corrects']['number']} от {_day(doc['corrects']['date'])}",
        ),
        ("Продавец (2)", seller["name"]),
        ("Адрес (2а)", seller["address"]),
        ("ИНН/КПП продавца (2б)", f"{seller['inn']}/{seller['kpp']}"),
        ("Покупатель (3)", buyer["name"]),
        ("Адрес (3а)", buyer["address"]),
        ("ИНН/КПП покупателя (3б)", f"{buyer['inn']}/{buyer['kpp'] or '—'}"),
        ("Валюта: наименование, код (4)", f"{doc['currency']['name']}, {doc['currency']['code']}"),
        ("Основание корректировки [8]", f"{doc['reason']}; {doc['basis']}"),
    )
    for label, value in rows:
        sheet.append([label, "", value])
    sheet.append([])
    sheet.append([xlsx.cell(sheet, header, bold=True, wrap=True) for header in UKD_HEADERS])
    sheet.append(["А", "Б", "1", "2", "2а", "—", "3", "4", "5", "6", "7", "8", "9"])
    for line in doc["lines"]:
        for part, label in UKD_ROWS:
            figures = line[part]
            priced = part in ("before", "after")
            sheet.append(
                [
                    line["position"],
                    line["code"],
                    line["name"],
                    line["unit_code"],
                    line["unit_name"],
                    label,
                    quantity_value(figures["quantity"], sheet),
                    xlsx.cell(sheet, Decimal(figures["price"])) if priced else "Х",
                    xlsx.cell(sheet, Decimal(figures["net"])),
                    "без акциза" if priced else "Х",
                    figures["vat_text"] if priced else "Х",
                    xlsx.cell(sheet, Decimal(figures["vat"])),
                    xlsx.cell(sheet, Decimal(figures["total"])),
                ]
            )
    for part, label in (
        ("increase", "Всего увеличение (сумма строк В)"),
        ("decrease", "Всего уменьшение (сумма строк Г)"),
    ):
        totals = doc["totals"][part]
        sheet.append(
            [xlsx.cell(sheet, label, bold=True)]
            + [""] * 7
            + [
                xlsx.cell(sheet, Decimal(totals["net"]), bold=True),
                "Х",
                "Х",
                xlsx.cell(sheet, Decimal(totals["vat"]), bold=True),
                xlsx.cell(sheet, Decimal(totals["total"]), bold=True),
            ]
        )
    signatures = doc["signatures"]
    sheet.append([])
    sheet.append(["Руководитель организации", "", signatures["director"]["name"]])
    sheet.append(["Главный бухгалтер", "", signatures["accountant"]["name"]])
    return xlsx.to_temporary_file(workbook)


def document_xlsx(document):
    return ukd_xlsx(document) if document.kind == DocumentKind.UKD else upd_xlsx(document)
