# ruff: noqa: F811 - the УПД fixtures of test_upd are imported and used by name
"""The ФНС XML of the УПД (format 5.03, «СЧФДОП») and of the УКД, read back field by field;
the ЭДО identifiers; the links from the account page and the «Акт сверки» to the documents.

The format's XSD is not shipped with the portal (docs/documents.md): every element the
format requires for these documents is checked here against the snapshot it comes from.
"""

import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.billing import fns_xml, primary
from portal.billing.models import PrimaryDocument
from portal.extensions import db
from tests.billing.test_upd import buyer_org, mixed_order, the_upd  # noqa: F401 - fixtures
from tests.factories import login, make_user

DECLARATION = b'<?xml version="1.0" encoding="windows-1251"?>\n'
SUPPLIER_EDO = "2BM-7729012342-772901001-201912050000000000001"


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects with its compressed streams inflated (links live in object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match[1]))
        except zlib.error:
            continue
    return b"".join(parts)


def download(client, document):
    response = client.get(f"/settlements/documents/{document.id}/document.xml")
    assert response.status_code == 200, response.status_code
    return response


def parse(content: bytes) -> ET.Element:
    assert content.startswith(DECLARATION)
    content.decode("windows-1251")  # decodable as declared
    assert "Счет-фактура".encode() not in content  # not UTF-8 inside
    return ET.fromstring(content)  # noqa: S314 - the portal's own output


def test_the_upd_xml_carries_every_required_element(app, mixed_order, buyer_org):
    order, client, medicine, plaster = mixed_order
    document = the_upd(order)
    snapshot = primary.snapshot_of(document)
    response = download(client, document)
    assert response.headers["Content-Type"] == "application/xml; charset=windows-1251"
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"])[1]
    root = parse(response.data)

    # The file: its name is ИдФайл + «.xml»; the buyer has no ЭДО identifier: ИНН-КПП.
    assert root.tag == "Файл"
    assert name == root.get("ИдФайл") + ".xml"
    issued = document.issued_at.replace(tzinfo=UTC).astimezone().strftime("%Y%m%d")
    assert re.fullmatch(
        rf"ON_NSCHFDOPPR_{buyer_org.inn}-770101001_{SUPPLIER_EDO}_\d{{8}}_"
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_0_0_0_0_0_00",
        root.get("ИдФайл"),
    ), root.get("ИдФайл")
    assert len(issued) == 8
    assert root.get("ВерсФорм") == "5.03" and root.get("ВерсПрог")
    doc = root.find("Документ")
    assert doc.get("КНД") == "1115131" and doc.get("Функция") == "СЧФДОП"
    assert doc.get("НаимДокОпр").startswith("Счет-фактура и документ об отгрузке")
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", doc.get("ДатаИнфПр"))
    assert re.fullmatch(r"\d\d\.\d\d\.\d\d", doc.get("ВремИнфПр"))
    assert [child.tag for child in doc] == ["СвСчФакт", "ТаблСчФакт", "СвПродПер", "Подписант"]

    # Number, date, both parties with ИНН/КПП and address, consignor, consignee, currency.
    invoice = doc.find("СвСчФакт")
    assert invoice.get("НомерДок") == document.printed_number
    assert invoice.get("ДатаДок") == "10.03.2026"
    seller = invoice.find("СвПрод/ИдСв/СвЮЛУч")
    supplier = app.config["SUPPLIER"]
    assert (seller.get("ИННЮЛ"), seller.get("КПП")) == (supplier["inn"], supplier["kpp"])
    assert seller.get("НаимОрг") == supplier["name"]
    assert invoice.find("СвПрод/Адрес/АдрИнф").get("АдрТекст") == supplier["address"]
    buyer = invoice.find("СвПокуп/ИдСв/СвЮЛУч")
    assert (buyer.get("ИННЮЛ"), buyer.get("КПП")) == (buyer_org.inn, "770101001")
    assert invoice.find("СвПокуп/Адрес/АдрИнф").get("АдрТекст") == buyer_org.legal_address
    assert invoice.find("ГрузОт/ОнЖе").text == "он же"
    assert invoice.find("ГрузПолуч/Адрес/АдрИнф").get("АдрТекст") == order.delivery_address
    shipment = invoice.find("ДокПодтвОтгрНом")
    assert shipment.get("РеквНомерДок") == document.printed_number
    assert shipment.get("РеквДатаДок") == "10.03.2026"
    assert invoice.find("ДенИзм").attrib == {"КодОКВ": "643", "НаимОКВ": "Российский рубль"}
    assert invoice.find("ИнфПолФХЖ1/ТекстИнф").get("Значен") == order.number

    # Each line's amounts as the snapshot has them; VAT per rate 10 % and 22 %.
    items = doc.findall("ТаблСчФакт/СведТов")
    assert len(items) == len(snapshot["lines"]) == 2
    by_rate = {}
    for item, line in zip(items, snapshot["lines"], strict=True):
        assert item.get("НомСтр") == str(line["position"])
        assert item.get("НаимТов") == line["name"]
        assert item.get("ОКЕИ_Тов") == line["unit_code"]
        assert item.get("НаимЕдИзм") == line["unit_name"]
        assert item.get("КолТов") == line["quantity"]
        assert item.get("ЦенаТов") == line["price"]
        assert item.get("СтТовБезНДС") == line["net"]
        assert item.get("СтТовУчНал") == line["total"]
        assert item.find("СумНал/СумНал").text == line["vat"]
        assert item.find("Акциз/БезАкциз").text == "без акциза"
        assert item.find("ДопСведТов").get("КодТов") == line["code"]
        assert item.find("СвДТ").get("КодПроисх") == line["country_code"]
        assert item.find("ДопСведТов/КрНаимСтрПр").text == line["country_name"]
        assert Decimal(item.get("СтТовБезНДС")) + Decimal(line["vat"]) == Decimal(line["total"])
        by_rate[item.get("НалСт")] = by_rate.get(item.get("НалСт"), 0) + Decimal(line["vat"])
    assert set(by_rate) == {"10%", "22%"}
    assert {"796", "778"} == {item.get("ОКЕИ_Тов") for item in items}
    assert by_rate == {
        f"{format(Decimal(rate).normalize(), 'f')}%": Decimal(amount)
        for rate, amount in snapshot["totals"]["vat_by_rate"].items()
    }
    total = doc.find("ТаблСчФакт/ВсегоОпл")
    assert total.get("СтТовБезНДСВсего") == "495.08"
    assert total.get("СтТовУчНалВсего") == "580.00"
    assert total.find("СумНалВсего/СумНал").text == "84.92"

    # The transfer: date, bases (supply contract and order), who handed over; the signer.
    handed = doc.find("СвПродПер/СвПер")
    assert handed.get("ДатаПер") == "10.03.2026" and handed.get("СодОпер")
    bases = [basis.get("РеквНаимДок") for basis in handed.findall("ОснПер")]
    assert bases[-1] == "Заказ"
    assert handed.findall("ОснПер")[-1].get("РеквНомерДок") == order.number
    worker = handed.find("СвЛицПер/РабОргПрод")
    assert worker.get("Должность") == supplier["director_position"]
    assert worker.find("ФИО").get("Фамилия") == supplier["director_name"].split()[0]
    signer = doc.find("Подписант")
    assert signer.get("СпосПодтПолном") == "1"
    assert signer.get("Должн") == supplier["director_position"]
    assert signer.find("ФИО").attrib == {"Фамилия": "Соколов", "Имя": "А.", "Отчество": "В."}


def test_a_re_download_is_byte_identical_after_the_catalogue_changes(
    app,
    mixed_order,
    buyer_org,
):
    order, client, medicine, _plaster = mixed_order
    document = the_upd(order)
    first = download(client, document).data
    medicine.name = "Переименованный товар"
    buyer_org.legal_address = "Другой адрес"
    db.session.commit()
    assert download(client, document).data == first
    assert "Переименованный".encode("windows-1251") not in first


def test_the_buyers_edo_identifier_names_the_recipient(app, mixed_order, buyer_org):
    order, client, *_ = mixed_order
    document = the_upd(order)
    buyer_org.edo_id = "2AE-1234567890-ABCDEF"
    db.session.commit()
    root = parse(download(client, document).data)
    assert root.get("ИдФайл").startswith(f"ON_NSCHFDOPPR_2AE-1234567890-ABCDEF_{SUPPLIER_EDO}_")


def test_without_the_suppliers_edo_identifier_the_xml_is_refused(
    app,
    mixed_order,
    monkeypatch,
):
    order, client, *_ = mixed_order
    document = the_upd(order)
    snapshot = primary.snapshot_of(document)
    snapshot["seller"]["edo_id"] = ""
    text = primary.canonical_json(snapshot)
    db.session.execute(
        PrimaryDocument.__table__.update()
        .where(PrimaryDocument.id == document.id)
        .values(snapshot=text, snapshot_sha256=primary.digest(text))
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "SUPPLIER", {**app.config["SUPPLIER"], "edo_id": ""})
    response = client.get(f"/settlements/documents/{document.id}/document.xml")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "PORTAL_SUPPLIER_EDO_ID" in page
    # The month's ZIP still holds the PDF, without an XML it could not make.
    with client.get("/settlements/documents/upd-month.zip?month=2026-03") as archive:
        names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert names == [f"upd-2026-{document.printed_number}.pdf"]


def test_links_and_access(app, mixed_order, other_pharmacy, buyer_org):
    order, client, *_ = mixed_order
    document = the_upd(order)
    xml_link = f"/settlements/documents/{document.id}/document.xml"
    assert xml_link in client.get(f"/orders/{order.id}/documents").get_data(as_text=True)
    assert xml_link in client.get("/settlements/documents?month=2026-03").get_data(as_text=True)
    with client.get("/settlements/documents/upd-month.zip?month=2026-03") as response:
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    xml_names = [name for name in archive.namelist() if name.endswith(".xml")]
    assert len(xml_names) == 1 and xml_names[0].startswith("ON_NSCHFDOPPR_")
    assert parse(archive.read(xml_names[0])).get("ИдФайл") + ".xml" == xml_names[0]
    outsider = app.test_client()
    login(outsider, make_user(other_pharmacy))
    assert outsider.get(xml_link).status_code == 404
    assert app.test_client().get(xml_link).status_code in (302, 401)


def test_the_account_page_links_each_shipment_to_its_upd(app, mixed_order):
    order, client, *_ = mixed_order
    document = the_upd(order)
    page = client.get("/settlements/?period_start=2026-01-01&period_end=2026-12-31")
    html = page.get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" data-testid="line-document">([^<]+)</a>', html)
    assert link is not None
    assert link[1] == f"/settlements/documents/{document.id}/upd.pdf"
    assert f"УПД) № {document.printed_number}" in link[2]
    with client.get(link[1]) as response:
        assert response.status_code == 200


def test_the_statement_links_its_lines_to_the_documents(app, mixed_order, buyer_org):
    from portal.billing import rendering
    from portal.billing.statements import build_statement

    order, *_ = mixed_order
    document = the_upd(order)
    statement = build_statement(buyer_org.id, date(2026, 1, 1), date(2026, 12, 31))
    urls = [line.url for line in statement.lines if line.url]
    base = app.config["PORTAL_BASE_URL"].rstrip("/")
    assert urls == [f"{base}/settlements/documents/{document.id}/upd.pdf"]
    sheet = load_workbook(io.BytesIO(rendering.statement_xlsx(statement))).active
    links = [cell for row in sheet.iter_rows() for cell in row if cell.hyperlink]
    assert [cell.hyperlink.target for cell in links] == urls
    assert f"№ {document.printed_number}" in links[0].value
    with app.test_request_context():
        pdf = rendering.statement_pdf(statement)
    assert urls[0].encode() in pdf_objects(pdf)  # a link annotation on the line


def test_staff_record_the_edo_identifier_and_bad_ones_are_refused(app, buyer_org, manager):
    client = app.test_client()
    login(client, manager)
    buyer_org.manager_id = manager.id
    db.session.commit()
    url = f"/backoffice/organisations/{buyer_org.id}/edo"
    bad = client.post(url, data={"edo_id": "2BM_with_underscore"})
    assert bad.status_code == 422
    db.session.refresh(buyer_org)
    assert buyer_org.edo_id is None
    good = client.post(url, data={"edo_id": "2BM-7701234567-770101001-0001"})
    assert good.status_code == 302
    db.session.refresh(buyer_org)
    assert buyer_org.edo_id == "2BM-7701234567-770101001-0001"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "organisation.edo_id_changed")
    )
    assert event.details["after"] == "2BM-7701234567-770101001-0001"
    page = client.get(f"/backoffice/organisations/{buyer_org.id}").get_data(as_text=True)
    assert "2BM-7701234567-770101001-0001" in page


# --- the builders on snapshots of the documented shapes (gas УПД, УКД) ---------------------

PARTY = {"name": "ООО «Покупатель»", "inn": "7701234567", "kpp": "770101001", "address": "Москва"}
SELLER = {"name": "ООО «Продавец»", "inn": "7729012342", "kpp": "772901001", "address": "Москва"}
SIGNATURES = {
    key: {"position": "Генеральный директор", "name": "Соколов А. В."}
    for key in ("director", "accountant", "handed_over", "responsible", "received")
}


def fake_document(kind, snapshot_text="{}"):
    return PrimaryDocument(
        id=77,
        kind=kind,
        organisation_id=0,
        snapshot=snapshot_text,
        snapshot_sha256=primary.digest(snapshot_text),
        issued_at=datetime(2026, 11, 5, 9, 30, 15, tzinfo=UTC),
    )


@pytest.fixture
def with_edo(app):
    with app.test_request_context():
        yield


def test_the_gas_upd_names_the_contract_and_thousands_of_cubic_metres(with_edo):
    snapshot = {
        "kind": "upd",
        "subject": "gas",
        "number": "Г-7",
        "date": "2026-10-31",
        "period_text": "октябрь 2026 г.",
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": {**SELLER, "edo_id": SUPPLIER_EDO},
        "consignor": {**SELLER, "note": "он же"},
        "consignee": PARTY,
        "buyer": {**PARTY, "edo_id": "2AE-GAS"},
        "contract": {"number": "ГП-52-0117/23", "date": "2024-09-01"},
        "order": None,
        "shipment_document": {"positions": "1", "number": "Г-7", "date": "2026-10-31"},
        "lines": [
            {
                "position": 1,
                "code": "ГАЗ",
                "name": "Газ горючий природный за октябрь 2026 г.",
                "kind_code": "",
                "unit_code": "114",
                "unit_name": "тыс м3",
                "quantity": "12.345",
                "price": "8640.00",
                "net": "106660.80",
                "vat_category": "general",
                "vat_rate": "22.00",
                "vat": "23465.38",
                "total": "130126.18",
                "country_code": "",
                "country_name": "",
                "declaration": "",
                "series": "",
                "expires_on": "",
            }
        ],
        "totals": {"net": "106660.80", "vat": "23465.38", "total": "130126.18"},
        "signatures": SIGNATURES,
        "shipped_on": "2026-10-31",
    }
    identifier, content = fns_xml.upd_xml(fake_document("upd"), snapshot)
    root = parse(content)
    assert identifier.startswith(f"ON_NSCHFDOPPR_2AE-GAS_{SUPPLIER_EDO}_20261105_")
    item = root.find("Документ/ТаблСчФакт/СведТов")
    assert (item.get("ОКЕИ_Тов"), item.get("КолТов"), item.get("НалСт")) == ("114", "12.345", "22%")
    assert item.find("СвДТ") is None  # no country for gas
    basis = root.find("Документ/СвПродПер/СвПер/ОснПер")
    assert basis.attrib == {
        "РеквНаимДок": "Договор поставки газа",
        "РеквНомерДок": "ГП-52-0117/23",
        "РеквДатаДок": "01.09.2024",
    }
    assert root.find("Документ").get("ВремИнфПр") == "12.30.15"  # Moscow time of issue


def test_the_ukd_xml_has_before_after_and_the_difference(with_edo):
    line = {
        "position": 1,
        "code": "SKU-1",
        "name": "Нурофен",
        "kind_code": "",
        "unit_code": "778",
        "unit_name": "упак",
        "vat_category": "reduced",
        "vat_text": "10 %",
        "before": {
            "quantity": "5",
            "price": "100.00",
            "net": "454.55",
            "vat_rate": "10.00",
            "vat": "45.45",
            "total": "500.00",
        },
        "after": {
            "quantity": "3",
            "price": "100.00",
            "net": "272.73",
            "vat_rate": "10.00",
            "vat": "27.27",
            "total": "300.00",
        },
        "increase": {"quantity": "0", "net": "0.00", "vat": "0.00", "total": "0.00"},
        "decrease": {"quantity": "2", "net": "181.82", "vat": "18.18", "total": "200.00"},
    }
    snapshot = {
        "kind": "ukd",
        "subject": "goods",
        "number": "К-3",
        "date": "2026-11-05",
        "original": {"number": "12", "date": "2026-10-20"},
        "corrects": {"kind": "upd", "number": "12", "date": "2026-10-20"},
        "currency": {"name": "Российский рубль", "code": "643"},
        "seller": {**SELLER, "edo_id": SUPPLIER_EDO},
        "buyer": PARTY,
        "contract": {},
        "order": {"number": "A-000123", "date": "2026-10-18"},
        "reason": "Уточнение отгруженного количества",
        "lines": [line],
        "totals": {
            "increase": {"net": "0.00", "vat": "0.00", "total": "0.00"},
            "decrease": {"net": "181.82", "vat": "18.18", "total": "200.00"},
            "difference": {"net": "-181.82", "vat": "-18.18", "total": "-200.00"},
        },
        "signatures": SIGNATURES,
    }
    identifier, content = fns_xml.ukd_xml(fake_document("ukd"), snapshot)
    root = parse(content)
    assert root.get("ИдФайл") == identifier
    assert identifier.startswith(f"ON_NKORSCHFDOPPR_7701234567-770101001_{SUPPLIER_EDO}_")
    doc = root.find("Документ")
    assert (doc.get("КНД"), doc.get("Функция")) == ("1115127", "КСЧФДИС")
    head = doc.find("СвКСчФ")
    assert (head.get("НомерКСчФ"), head.get("ДатаКСчФ")) == ("К-3", "05.11.2026")
    assert head.find("СчФ").attrib == {"НомерСчФ": "12", "ДатаСчФ": "20.10.2026"}
    assert head.find("СвПокуп/ИдСв/СвЮЛУч").get("ИННЮЛ") == "7701234567"
    item = doc.find("ТаблКСчФ/СведТов")
    assert (item.get("КолТовДо"), item.get("КолТовПосле")) == ("5", "3")
    assert (item.get("НалСтДо"), item.get("НалСтПосле")) == ("10%", "10%")
    assert item.find("СтТовБезНДС").attrib == {
        "СтоимДоИзм": "454.55",
        "СтоимПослеИзм": "272.73",
        "СтоимУм": "181.82",
    }
    assert item.find("СумНалДо/СумНал").text == "45.45"
    assert item.find("СумНалПосле/СумНал").text == "27.27"
    assert item.find("СумНалРазн/СумУм").text == "18.18"
    assert item.find("СтТовУчНал").get("СтоимУм") == "200.00"
    decrease = doc.find("ТаблКСчФ/ВсегоУм")
    assert decrease.get("СтТовУчНалВсего") == "200.00"
    assert decrease.find("СумНал/СумНДС").text == "18.18"
    assert doc.find("ТаблКСчФ/ВсегоУвел").get("СтТовБезНДСВсего") == "0.00"
    assert doc.find("Подписант/ФИО").get("Фамилия") == "Соколов"
    # Generic by kind: the download route would pick this builder for a УКД row.
    assert fns_xml.BUILDERS["ukd"] is fns_xml.ukd_xml
