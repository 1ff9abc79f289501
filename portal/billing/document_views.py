"""Primary documents for the customer: the list of a month, each УПД as PDF, XLSX or ФНС XML
(any kind of document: УПД, УКД), and all УПД of a month in one ZIP; the back office
downloads any of them."""

import io
import re
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from portal import clock
from portal.billing import bp, fns_xml, gas_upd, primary, ukd, upd_render
from portal.billing.models import DocumentKind, PrimaryDocument
from portal.errors import UserError
from portal.organisations.models import Power
from portal.security import (
    access,
    current_organisation,
    get_scoped_or_404,
    has_power,
)

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parse_month(text: str | None) -> date | None:
    """«2026-03» -> 1 March 2026; None when it is not a month of the years documents have."""
    match = MONTH.match((text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _may_see_figures() -> None:
    # The accountant (finance) or a buyer who sees prices: the УПД carries every price.
    if not (has_power(Power.VIEW_FINANCE) or has_power(Power.VIEW_PRICES)):
        abort(403)


def pdf_response(document, act=False):
    data = upd_render.gas_act_pdf(document) if act else upd_render.document_pdf(document)
    stem = upd_render.file_stem(document, "act" if act else None)
    # send_file writes a non-ASCII name («Г-7», «К-3») as RFC 5987 filename*, with an ASCII
    # fallback: a raw Cyrillic header value is refused by the production server.
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{stem}.pdf",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _xlsx_response(document):
    response = send_file(
        upd_render.document_xlsx(document),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=f"{upd_render.file_stem(document)}.xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def xml_response(document, back: str):
    """The document's ФНС XML (windows-1251) named by its ИдФайл; a refusal names the setting."""
    try:
        name, content = fns_xml.document_xml(document)
    except UserError as error:
        current_app.logger.error("ФНС XML of document %s refused: %s", document.id, error)
        flash(str(error.message), "error")
        return redirect(back)
    return current_app.response_class(
        content,
        content_type=f"application/xml; charset={fns_xml.ENCODING}",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/settlements/documents")
@access.power(Power.VIEW_FINANCE)
def primary_documents():
    organisation = current_organisation()
    raw = request.args.get("month")
    month = parse_month(raw) if raw else clock.month_start(clock.local_today())
    error = None
    status = 200
    if month is None:
        error = _("Choose a month as YYYY-MM, e.g. 2026-03.")
        month = clock.month_start(clock.local_today())
        status = 422
    documents = primary.documents_of_month(organisation.id, month)
    orders = {}
    for document in documents:
        if document.shipment is not None:
            orders[document.id] = document.shipment.order
    return render_template(
        "billing/primary_documents.html",
        documents=documents,
        snapshots={d.id: primary.snapshot_of(d) for d in documents},
        orders=orders,
        month=month,
        month_text=raw if error else f"{month:%Y-%m}",
        error=error,
    ), status


@bp.route("/settlements/documents/upd-month.zip")
@access.power(Power.VIEW_FINANCE)
def upd_month_zip():
    organisation = current_organisation()
    month = parse_month(request.args.get("month"))
    if month is None:
        flash(_("Choose a month as YYYY-MM, e.g. 2026-03."), "error")
        return redirect(url_for("billing.primary_documents"))
    documents = primary.documents_of_month(organisation.id, month)
    if not documents:
        flash(_("There are no УПД or УКД dated %(month)s.", month=f"{month:%m.%Y}"), "warning")
        return redirect(url_for("billing.primary_documents", month=f"{month:%Y-%m}"))
    response = send_file(
        upd_render.month_zip(documents),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"upd-{month:%Y-%m}.zip",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/settlements/documents/<int:document_id>/upd.pdf")
@access.customer
def upd_pdf(document_id):
    document = get_scoped_or_404(PrimaryDocument, document_id)
    _may_see_figures()
    if document.kind != DocumentKind.UPD:
        abort(404)
    return pdf_response(document)


@bp.route("/settlements/documents/<int:document_id>/upd.xlsx")
@access.customer
def upd_xlsx(document_id):
    document = get_scoped_or_404(PrimaryDocument, document_id)
    _may_see_figures()
    if document.kind != DocumentKind.UPD:
        abort(404)
    return _xlsx_response(document)


@bp.route("/settlements/documents/<int:document_id>/document.xml")
@access.customer
def document_xml(document_id):
    """The ФНС XML of any primary document of the organisation (УПД, УКД), by its kind."""
    document = get_scoped_or_404(PrimaryDocument, document_id)
    _may_see_figures()
    month = f"{document.document_date:%Y-%m}"
    return xml_response(document, url_for("billing.primary_documents", month=month))


def _customer_document(document_id, kind):
    document = get_scoped_or_404(PrimaryDocument, document_id)
    _may_see_figures()
    if document.kind != kind:
        abort(404)
    return document


@bp.route("/settlements/documents/<int:document_id>/ukd.pdf")
@access.customer
def ukd_pdf(document_id):
    return pdf_response(_customer_document(document_id, DocumentKind.UKD))


@bp.route("/settlements/documents/<int:document_id>/ukd.xlsx")
@access.customer
def ukd_xlsx(document_id):
    return _xlsx_response(_customer_document(document_id, DocumentKind.UKD))


@bp.route("/settlements/documents/<int:document_id>/gas-act.pdf")
@access.customer
def gas_act_pdf(document_id):
    document = _customer_document(document_id, DocumentKind.UPD)
    if not upd_render.has_gas_act(document):
        abort(404)
    return pdf_response(document, act=True)


@bp.app_template_global("primary_document_links")
def primary_document_links(document) -> dict:
    """The customer's download links of a document: {"pdf", "xlsx", "xml", "act" (gas, if any)}."""
    if document.kind == DocumentKind.UKD:
        return {
            "pdf": url_for("billing.ukd_pdf", document_id=document.id),
            "xlsx": url_for("billing.ukd_xlsx", document_id=document.id),
            "xml": url_for("billing.document_xml", document_id=document.id),
        }
    links = {
        "pdf": url_for("billing.upd_pdf", document_id=document.id),
        "xlsx": url_for("billing.upd_xlsx", document_id=document.id),
        "xml": url_for("billing.document_xml", document_id=document.id),
    }
    if upd_render.has_gas_act(document):
        links["act"] = url_for("billing.gas_act_pdf", document_id=document.id)
    return links


@bp.app_template_global("gas_documents_of_contract")
def gas_documents_of_contract(contract_id) -> dict:
    """{period: [УПД, УКД …]} of a gas contract (the contract page's months); empty for a
    member who may see neither finances nor prices."""
    if not (has_power(Power.VIEW_FINANCE) or has_power(Power.VIEW_PRICES)):
        return {}
    return gas_upd.gas_documents_of_contract(contract_id)


@bp.app_template_global("order_corrections")
def order_corrections(order_id) -> list:
    """The УКД of an order's shipment, in issue order."""

    return ukd.documents_of_order(order_id)


@bp.app_template_global("primary_snapshot")
def primary_snapshot(document) -> dict:
    return primary.snapshot_of(document)
