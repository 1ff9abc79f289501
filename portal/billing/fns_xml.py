"""The ФНС XML of a primary document: the file a buyer loads into 1C or sends through ЭДО.

- УПД (kind "upd", goods or gas): the format of the ФНС order of 19.12.2023 № ЕД-7-26/970@,
  version 5.03, function «СЧФДОП» (счёт-фактура and передаточный документ), КНД 1115131,
  file ON_NSCHFDOPPR_<ИдПол>_<ИдОтпр>_<YYYYMMDD>_<GUID>_0_0_0_0_0_00.
- УКД (kind "ukd"): ON_NKORSCHFDOPPR, version 5.01, function «КСЧФДИС», КНД 1115127.

Both are windows-1251, as the formats require. Everything comes from the document's frozen
snapshot and its row (number, date, the moment it was issued): the GUID is derived from the
document's identity and digest, the formation date and time are the moment of issue, so the
same document gives the same bytes on every download. The ЭДО identifiers are the snapshot's
when it recorded them, else the current settings (see `edo_ids`).
"""

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from portal.billing.models import DocumentKind, VatCategory
from portal.billing.primary import snapshot_of
from portal.errors import UserError

ENCODING = "windows-1251"
PROGRAM = "Портал поставщика 1.0"
GUID_NAMESPACE = uuid.UUID("6f1c6a52-3f0e-4d8e-9d55-5a3cf0a1d7b1")
COUNTRY_RU = ("643", "РОССИЯ")

UPD_FORMAT = {
    "prefix": "ON_NSCHFDOPPR",
    "version": "5.03",
    "knd": "1115131",
    "function": "СЧФДОП",
    "fact": (
        "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
        "(документ об оказании услуг)"
    ),
    "name": (
        "Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче "
        "имущественных прав (документ об оказании услуг)"
    ),
}
UKD_FORMAT = {
    "prefix": "ON_NKORSCHFDOPPR",
    "version": "5.01",
    "knd": "1115127",
    "function": "КСЧФДИС",
    "fact": (
        "Документ, подтверждающий согласие (факт уведомления) покупателя на изменение "
        "стоимости отгруженных товаров (выполненных работ, оказанных услуг), переданных "
        "имущественных прав"
    ),
    "name": (
        "Корректировочный счет-фактура и документ об изменении стоимости отгруженных "
        "товаров (выполненных работ, оказанных услуг), переданных имущественных прав"
    ),
}


# --- small helpers ------------------------------------------------------------------------


def _day(value: str) -> str:
    """'2026-10-31' or '31.10.2026' -> '31.10.2026' (ДатаТип)."""
    if not value:
        return ""
    if "." in value:
        return value
    return date.fromisoformat(value).strftime("%d.%m.%Y")


def _rate(line_category: str, rate: str) -> str:
    """The НалСт of the format: '10%', '22%', '0%' or 'без НДС'."""
    if line_category == VatCategory.WITHOUT:
        return "без НДС"
    value = Decimal(rate).normalize()
    text = format(value, "f").replace(".", ",")
    return f"{text}%"


def _vat(parent, tag: str, amount: str, without: bool):
    holder = ET.SubElement(parent, tag)
    if without:
        ET.SubElement(holder, "БезНДС").text = "без НДС"
    else:
        ET.SubElement(holder, "СумНал").text = amount
    return holder


def person(name: str) -> dict:
    """«Соколов А. В.» -> Фамилия «Соколов», Имя «А.», Отчество «В.» (ФИОТип)."""
    parts = name.replace(". ", ".|").replace(" ", "|").split("|")
    parts = [part.strip() for part in parts if part.strip()]
    if not parts:
        return {"Фамилия": "-", "Имя": "-"}
    result = {"Фамилия": parts[0], "Имя": parts[1] if len(parts) > 1 else "-"}
    if len(parts) > 2:
        result["Отчество"] = " ".join(parts[2:])
    return result


def _participant(parent, tag: str, party: dict):
    node = ET.SubElement(parent, tag)
    ids = ET.SubElement(node, "ИдСв")
    attributes = {"НаимОрг": party["name"], "ИННЮЛ": party["inn"]}
    if party.get("kpp"):
        attributes["КПП"] = party["kpp"]
    if len(party["inn"]) == 12:  # an individual entrepreneur
        entrepreneur = ET.SubElement(ids, "СвИП", {"ИННФЛ": party["inn"]})
        ET.SubElement(entrepreneur, "ФИО", person(party["name"]))
    else:
        ET.SubElement(ids, "СвЮЛУч", attributes)
    if party.get("address"):
        address = ET.SubElement(node, "Адрес")
        ET.SubElement(
            address,
            "АдрИнф",
            {"КодСтр": COUNTRY_RU[0], "НаимСтран": COUNTRY_RU[1], "АдрТекст": party["address"]},
        )
    return node


def _to_bytes(root) -> bytes:
    body = ET.tostring(root, encoding=ENCODING, xml_declaration=False)
    return f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii") + body


# --- identifiers --------------------------------------------------------------------------


def edo_ids(document, snapshot: dict) -> tuple[str, str]:
    """(ИдПол, ИдОтпр): the buyer's and the supplier's ЭДО participant identifiers.

    The supplier's is required (PORTAL_SUPPLIER_EDO_ID); a buyer without one is named by
    ИНН-КПП (its ИНН alone when it has no КПП), which an operator's import matches by the
    requisites inside the file.
    """
    sender = (snapshot["seller"].get("edo_id") or "").strip()
    if not sender:
        sender = (current_app.config["SUPPLIER"].get("edo_id") or "").strip()
    if not sender:
        raise UserError(
            _(
                "The XML is not made: the supplier's ЭДО participant identifier is not set "
                "(setting PORTAL_SUPPLIER_EDO_ID)."
            ),
            "edo_id",
        )
    receiver = (snapshot["buyer"].get("edo_id") or "").strip()
    if not receiver:
        from portal.extensions import db
        from portal.organisations.models import Organisation

        organisation = db.session.get(Organisation, document.organisation_id)
        receiver = (getattr(organisation, "edo_id", None) or "").strip()
    if not receiver:
        buyer = snapshot["buyer"]
        receiver = "-".join(part for part in (buyer["inn"], buyer.get("kpp")) if part)
    return receiver, sender


def _moment(document):
    """The moment the document was issued, in the supplier's time zone."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    moment = document.issued_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def file_id(document, snapshot: dict | None = None) -> str:
    """ИдФайл, which is also the file's name without «.xml»."""
    snapshot = snapshot if snapshot is not None else snapshot_of(document)
    spec = UKD_FORMAT if document.kind == DocumentKind.UKD else UPD_FORMAT
    receiver, sender = edo_ids(document, snapshot)
    guid = uuid.uuid5(GUID_NAMESPACE, f"{document.kind}:{document.id}:{document.snapshot_sha256}")
    day = _moment(document).strftime("%Y%m%d")
    return f"{spec['prefix']}_{receiver}_{sender}_{day}_{guid}_0_0_0_0_0_00"


def _root(document, snapshot, spec):
    moment = _moment(document)
    identifier = file_id(document, snapshot)
    root = ET.Element(
        "Файл", {"ИдФайл": identifier, "ВерсФорм": spec["version"], "ВерсПрог": PROGRAM}
    )
    return root, moment, identifier


def _document(root, snapshot, spec, moment):
    return ET.SubElement(
        root,
        "Документ",
        {
            "КНД": spec["knd"],
            "Функция": spec["function"],
            "ПоФактХЖ": spec["fact"],
            "НаимДокОпр": spec["name"],
            "ДатаИнфПр": moment.strftime("%d.%m.%Y"),
            "ВремИнфПр": moment.strftime("%H.%M.%S"),
            "НаимЭконСубСост": snapshot["seller"]["name"],
        },
    )


def _signer(parent, snapshot):
    director = snapshot["signatures"]["director"]
    signer = ET.SubElement(
        parent, "Подписант", {"Должн": director["position"], "СпосПодтПолном": "1"}
    )
    ET.SubElement(signer, "ФИО", person(director["name"]))


def _bases(snapshot) -> list[dict]:
    """The documents the goods were handed over under (contract, then order)."""
    bases = []
    contract = snapshot.get("contract") or {}
    if contract.get("number"):
        gas = snapshot.get("subject") == "gas"
        bases.append(
            {
                "РеквНаимДок": "Договор поставки газа" if gas else "Договор поставки",
                "РеквНомерДок": contract["number"],
                "РеквДатаДок": _day(contract.get("date") or snapshot["date"]),
            }
        )
    order = snapshot.get("order")
    if order:
        bases.append(
            {
                "РеквНаимДок": "Заказ",
                "РеквНомерДок": order["number"],
                "РеквДатаДок": _day(order["date"]),
            }
        )
    return bases


# --- УПД ----------------------------------------------------------------------------------


def upd_xml(document, snapshot: dict) -> tuple[str, bytes]:
    spec = UPD_FORMAT
    root, moment, identifier = _root(document, snapshot, spec)
    doc = _document(root, snapshot, spec, moment)

    invoice = ET.SubElement(
        doc, "СвСчФакт", {"НомерДок": snapshot["number"], "ДатаДок": _day(snapshot["date"])}
    )
    _participant(invoice, "СвПрод", snapshot["seller"])
    consignor = ET.SubElement(invoice, "ГрузОт")
    ET.SubElement(consignor, "ОнЖе").text = "он же"
    _participant(invoice, "ГрузПолуч", snapshot["consignee"])
    shipment = snapshot["shipment_document"]
    ET.SubElement(
        invoice,
        "ДокПодтвОтгрНом",
        {
            "РеквНаимДок": "Универсальный передаточный документ",
            "РеквНомерДок": shipment["number"],
            "РеквДатаДок": _day(shipment["date"]),
        },
    )
    _participant(invoice, "СвПокуп", snapshot["buyer"])
    currency = snapshot["currency"]
    ET.SubElement(invoice, "ДенИзм", {"КодОКВ": currency["code"], "НаимОКВ": currency["name"]})
    texts = []
    if snapshot.get("order"):
        texts.append(("НомерЗаказа", snapshot["order"]["number"]))
    if snapshot.get("period_text"):
        texts.append(("Период", snapshot["period_text"]))
    if texts:
        info = ET.SubElement(invoice, "ИнфПолФХЖ1")
        for key, value in texts:
            ET.SubElement(info, "ТекстИнф", {"Идентиф": key, "Значен": value})

    table = ET.SubElement(doc, "ТаблСчФакт")
    all_without = True
    for line in snapshot["lines"]:
        without = line["vat_category"] == VatCategory.WITHOUT
        all_without = all_without and without
        item = ET.SubElement(
            table,
            "СведТов",
            {
                "НомСтр": str(line["position"]),
                "НаимТов": line["name"],
                "ОКЕИ_Тов": line["unit_code"],
                "НаимЕдИзм": line["unit_name"],
                "КолТов": line["quantity"],
                "ЦенаТов": line["price"],
                "СтТовБезНДС": line["net"],
                "НалСт": _rate(line["vat_category"], line["vat_rate"]),
                "СтТовУчНал": line["total"],
            },
        )
        if line.get("country_code"):
            declaration = {"КодПроисх": line["country_code"]}
            if line.get("declaration"):
                declaration["НомерДТ"] = line["declaration"]
            ET.SubElement(item, "СвДТ", declaration)
        extra = {"ПрТовРаб": "1"}
        if line.get("code"):
            extra["КодТов"] = line["code"]
        if line.get("kind_code"):
            extra["КодВидТов"] = line["kind_code"]
        if line.get("series"):
            extra["СерияТов"] = line["series"]
        details = ET.SubElement(item, "ДопСведТов", extra)
        if line.get("country_code"):
            ET.SubElement(details, "КрНаимСтрПр").text = line.get("country_name") or "-"
        excise = ET.SubElement(item, "Акциз")
        ET.SubElement(excise, "БезАкциз").text = "без акциза"
        _vat(item, "СумНал", line["vat"], without)
        if line.get("expires_on"):
            ET.SubElement(
                item, "ИнфПолФХЖ2", {"Идентиф": "СрокГодности", "Значен": _day(line["expires_on"])}
            )
    totals = snapshot["totals"]
    total = ET.SubElement(
        table,
        "ВсегоОпл",
        {"СтТовБезНДСВсего": totals["net"], "СтТовУчНалВсего": totals["total"]},
    )
    _vat(total, "СумНалВсего", totals["vat"], all_without and bool(snapshot["lines"]))

    transfer = ET.SubElement(doc, "СвПродПер")
    handed = ET.SubElement(
        transfer,
        "СвПер",
        {
            "СодОпер": "Товары переданы",
            "ДатаПер": _day(snapshot.get("shipped_on") or snapshot["date"]),
        },
    )
    bases = _bases(snapshot)
    if bases:
        for basis in bases:
            ET.SubElement(handed, "ОснПер", basis)
    else:
        ET.SubElement(handed, "БезДокОснПер").text = "1"
    handed_over = snapshot["signatures"]["handed_over"]
    if handed_over.get("name"):
        people = ET.SubElement(handed, "СвЛицПер")
        worker = ET.SubElement(
            people, "РабОргПрод", {"Должность": handed_over.get("position") or "-"}
        )
        ET.SubElement(worker, "ФИО", person(handed_over["name"]))
    _signer(doc, snapshot)
    return identifier, _to_bytes(root)


# --- УКД ----------------------------------------------------------------------------------


def _change(parent, tag: str, before: str, after: str, increase: str, decrease: str):
    """A «before / after / increase (В) / decrease (Г)» block of the УКД table."""
    attributes = {"СтоимДоИзм": before, "СтоимПослеИзм": after}
    if Decimal(increase) > 0:
        attributes["СтоимУвел"] = increase
    elif Decimal(decrease) > 0:
        attributes["СтоимУм"] = decrease
    else:
        attributes["СтоимУвел"] = "0.00"
    return ET.SubElement(parent, tag, attributes)


def ukd_xml(document, snapshot: dict) -> tuple[str, bytes]:
    spec = UKD_FORMAT
    root, moment, identifier = _root(document, snapshot, spec)
    doc = _document(root, snapshot, spec, moment)
    currency = snapshot["currency"]
    head = ET.SubElement(
        doc,
        "СвКСчФ",
        {
            "НомерКСчФ": snapshot["number"],
            "ДатаКСчФ": _day(snapshot["date"]),
            "КодОКВ": currency["code"],
        },
    )
    original = snapshot["original"]
    ET.SubElement(head, "СчФ", {"НомерСчФ": original["number"], "ДатаСчФ": _day(original["date"])})
    _participant(head, "СвПрод", snapshot["seller"])
    _participant(head, "СвПокуп", snapshot["buyer"])

    table = ET.SubElement(doc, "ТаблКСчФ")
    for line in snapshot["lines"]:
        before, after = line["before"], line["after"]
        increase, decrease = line["increase"], line["decrease"]
        without = line["vat_category"] == VatCategory.WITHOUT
        item = ET.SubElement(
            table,
            "СведТов",
            {
                "НомСтр": str(line["position"]),
                "НаимТов": line["name"],
                "ОКЕИ_ТовДо": line["unit_code"],
                "ОКЕИ_ТовПосле": line["unit_code"],
                "КолТовДо": before["quantity"],
                "КолТовПосле": after["quantity"],
                "ЦенаТовДо": before["price"],
                "ЦенаТовПосле": after["price"],
                "НалСтДо": _rate(line["vat_category"], before["vat_rate"]),
                "НалСтПосле": _rate(line["vat_category"], after["vat_rate"]),
            },
        )
        _change(item, "СтТовБезНДС", before["net"], after["net"], increase["net"], decrease["net"])
        for tag in ("АкцизДо", "АкцизПосле"):
            excise = ET.SubElement(item, tag)
            ET.SubElement(excise, "БезАкциз").text = "без акциза"
        _vat(item, "СумНалДо", before["vat"], without)
        _vat(item, "СумНалПосле", after["vat"], without)
        difference = ET.SubElement(item, "СумНалРазн")
        if Decimal(decrease["vat"]) > 0:
            ET.SubElement(difference, "СумУм").text = decrease["vat"]
        else:
            ET.SubElement(difference, "СумУвел").text = increase["vat"]
        _change(
            item,
            "СтТовУчНал",
            before["total"],
            after["total"],
            increase["total"],
            decrease["total"],
        )
        extra = {"НаимЕдИзмДо": line["unit_name"], "НаимЕдИзмПосле": line["unit_name"]}
        if line.get("code"):
            extra["КодТов"] = line["code"]
        ET.SubElement(item, "ДопСведТов", extra)
    totals = snapshot["totals"]
    for tag, key in (("ВсегоУвел", "increase"), ("ВсегоУм", "decrease")):
        block = totals[key]
        node = ET.SubElement(
            table, tag, {"СтТовБезНДСВсего": block["net"], "СтТовУчНалВсего": block["total"]}
        )
        vat = ET.SubElement(node, "СумНал")
        ET.SubElement(vat, "СумНДС").text = block["vat"]

    content = ET.SubElement(
        doc,
        "СодФХЖ3",
        {
            "СодОпер": snapshot.get("reason") or "Изменение стоимости отгруженных товаров",
        },
    )
    ET.SubElement(
        content,
        "ПередатДокум",
        {
            "НаимОсн": "Универсальный передаточный документ",
            "НомОсн": original["number"],
            "ДатаОсн": _day(original["date"]),
        },
    )
    ET.SubElement(
        content,
        "ОснКор",
        {
            "НаимОсн": snapshot.get("reason") or "Корректировка",
            "НомОсн": snapshot["number"],
            "ДатаОсн": _day(snapshot["date"]),
        },
    )
    _signer(doc, snapshot)
    return identifier, _to_bytes(root)


BUILDERS = {DocumentKind.UPD.value: upd_xml, DocumentKind.UKD.value: ukd_xml}


def document_xml(document) -> tuple[str, bytes]:
    """(file name, windows-1251 bytes) of any issued primary document, by its kind."""
    builder = BUILDERS.get(str(document.kind))
    if builder is None:  # pragma: no cover - every kind the portal issues has a builder
        raise UserError(_("This document has no electronic format."), "kind")
    snapshot = snapshot_of(document)
    identifier, content = builder(document, snapshot)
    return f"{identifier}.xml", content
