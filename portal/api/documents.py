"""The organisation's documents: invoices for orders, УПД/УКД, supplier documents (/api/v1).

Each kind keeps the access rule of its page: an invoice needs the powers to order and to see
prices (the order page's «Счёт на оплату»), a УПД or УКД the finance power or prices (the
document carries every price), a supplier document is open to every member except the
financial kinds (contracts, invoices, acts: finance power). The list shows only what the key
may open; opening another kind by its id is 403, another organisation's document 404.

Formats come from one registry, `FORMATS` (kind → format → renderer); a new format (the
ФНС XML of a УПД, say) is one `register_format("upd", "xml", renderer, mimetype)` call and
appears in every list entry's `formats` and as `/api/v1/documents/<id>.<format>`.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, g, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, or_, select

from portal.api.auth import requires
from portal.api.problems import Problem
from portal.api.schemas import MAX_ID, DecimalString, StrictSchema
from portal.billing import fns_xml, primary, upd_render
from portal.billing.models import DocumentKind, PrimaryDocument
from portal.documents import services as supplier_documents
from portal.documents import storage
from portal.documents.models import SupplierDocument
from portal.errors import UserError
from portal.extensions import db
from portal.orders import documents as order_documents
from portal.orders.models import Order, OrderStatus
from portal.organisations.models import Power

blp = Blueprint(
    "api_documents",
    __name__,
    url_prefix="/api/v1/documents",
    description="Invoices, УПД/УКД and supplier documents; PDF, XLSX (and XML where it exists)",
)

MAX_LIMIT = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INVOICE, UPD, UKD, SUPPLIER = "invoice", DocumentKind.UPD.value, DocumentKind.UKD.value, "supplier"
KINDS = (INVOICE, UPD, UKD, SUPPLIER)


@dataclass(frozen=True)
class Format:
    mimetype: str
    render: Callable  # (row) -> (bytes or a file object, download name)


FORMATS: dict[str, dict[str, Format]] = {kind: {} for kind in KINDS}


def register_format(kind: str, fmt: str, render: Callable, mimetype: str) -> None:
    """Offer documents of `kind` as `fmt`: `render(row)` returns (content, file name)."""
    FORMATS.setdefault(kind, {})[fmt] = Format(mimetype, render)


def _invoice_pdf(order):
    return order_documents.invoice_pdf(order), f"invoice-{order.number}.pdf"


def _primary_pdf(document):
    return upd_render.document_pdf(document), f"{upd_render.file_stem(document)}.pdf"


def _primary_xlsx(document):
    return upd_render.document_xlsx(document), f"{upd_render.file_stem(document)}.xlsx"


def _primary_xml(document):
    """The ФНС XML (windows-1251), named by its ИдФайл as the format requires."""
    name, content = fns_xml.document_xml(document)
    return content, name


register_format(INVOICE, "pdf", _invoice_pdf, "application/pdf")
for _kind in (UPD, UKD):
    register_format(_kind, "pdf", _primary_pdf, "application/pdf")
    register_format(_kind, "xlsx", _primary_xlsx, XLSX)
    register_format(_kind, "xml", _primary_xml, f"application/xml; charset={fns_xml.ENCODING}")
# Supplier documents are stored files: their one format is the file's own type.


def _supplier_format(document) -> str:
    return PurePath(document.original_name).suffix.lstrip(".").lower() or "bin"


# --- who may see which kind ------------------------------------------------------------------


def _may_see_invoices(membership) -> bool:
    return membership.has(Power.ORDER) and membership.has(Power.VIEW_PRICES)


def _may_see_primary(membership) -> bool:
    return membership.has(Power.VIEW_FINANCE) or membership.has(Power.VIEW_PRICES)


# --- list ------------------------------------------------------------------------------------


class DocumentListQuery(StrictSchema):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS), metadata={"enum": list(KINDS)})
    from_ = ma.fields.Date(data_key="from", metadata={"description": "Documents dated from"})
    to = ma.fields.Date(metadata={"description": "… up to and including this day"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))
    cursor = ma.fields.String(validate=ma.validate.Length(max=500))


class DocumentSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "upd-17"})
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    category = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "A supplier document's kind (contract, act, certificate, …)"},
    )
    number = ma.fields.String(allow_none=True, required=True)
    date = ma.fields.Date(allow_none=True, required=True)
    title = ma.fields.String(required=True)
    total = DecimalString(allow_none=True, required=True, metadata={"description": "RUB"})
    order_number = ma.fields.String(allow_none=True, required=True)
    formats = ma.fields.List(ma.fields.String(), required=True)
    downloads = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


class DocumentPageSchema(ma.Schema):
    documents = ma.fields.List(ma.fields.Nested(DocumentSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


def _zone():
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))


def _day_start(day, days=0):
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=_zone()).astimezone(UTC)


def _after(moment_column, id_column, rank, cursor):
    """Rows after the cursor in the list's order (newest first: moment, kind, id descending)."""
    if cursor is None:
        return None
    moment, cursor_rank, cursor_id = cursor
    if rank < cursor_rank:
        return moment_column <= moment
    if rank > cursor_rank:
        return moment_column < moment
    return or_(moment_column < moment, and_(moment_column == moment, id_column < cursor_id))


def _entry(doc_id, kind, moment, rank, **fields):
    formats = list(fields.pop("formats", FORMATS.get(kind, {})))
    return (
        (moment, rank, fields.pop("row_id")),
        {
            "id": doc_id,
            "kind": kind,
            "formats": formats,
            "downloads": {
                fmt: url_for("api_documents.download_document", document_id=doc_id, fmt=fmt)
                for fmt in formats
            },
            **fields,
        },
    )


def _invoices(membership, start, end, cursor, limit):
    query = select(Order).where(
        Order.organisation_id == membership.organisation_id,
        Order.status != OrderStatus.CANCELLED,
    )
    if start:
        query = query.where(Order.created_at >= _day_start(start))
    if end:
        query = query.where(Order.created_at < _day_start(end, 1))
    after = _after(Order.created_at, Order.id, 0, cursor)
    if after is not None:
        query = query.where(after)
    rows = db.session.scalars(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    ).all()
    return [
        _entry(
            f"{INVOICE}-{order.id}",
            INVOICE,
            order.created_at,
            0,
            row_id=order.id,
            category=None,
            number=order.number,
            date=order.created_at.astimezone(_zone()).date(),
            title=f"Счёт на оплату № {order.number}",
            total=order.total,
            order_number=order.number,
        )
        for order in rows
    ]


def _primary(membership, kinds, start, end, cursor, limit):
    query = select(PrimaryDocument).where(
        PrimaryDocument.organisation_id == membership.organisation_id,
        PrimaryDocument.kind.in_(kinds),
    )
    if start:
        query = query.where(PrimaryDocument.document_date >= start)
    if end:
        query = query.where(PrimaryDocument.document_date <= end)
    after = _after(PrimaryDocument.issued_at, PrimaryDocument.id, 1, cursor)
    if after is not None:
        query = query.where(after)
    rows = db.session.scalars(
        query.order_by(PrimaryDocument.issued_at.desc(), PrimaryDocument.id.desc()).limit(limit)
    ).all()
    entries = []
    for document in rows:
        snapshot = primary.snapshot_of(document)
        name = "УКД" if document.kind == DocumentKind.UKD else "УПД"
        entries.append(
            _entry(
                f"{document.kind}-{document.id}",
                str(document.kind),
                document.issued_at,
                1,
                row_id=document.id,
                category=None,
                number=document.printed_number,
                date=document.document_date,
                title=f"{name} № {document.printed_number} от {document.document_date:%d.%m.%Y}",
                total=(snapshot.get("totals") or {}).get("total"),
                order_number=(snapshot.get("order") or {}).get("number"),
            )
        )
    return entries


def _supplier(membership, start, end, cursor, limit):
    query = supplier_documents.documents_for(membership, date_from=start, date_to=end)
    after = _after(SupplierDocument.created_at, SupplierDocument.id, 2, cursor)
    if after is not None:
        query = query.where(after)
    rows = db.session.scalars(query.limit(limit)).all()
    return [
        _entry(
            f"{SUPPLIER}-{document.id}",
            SUPPLIER,
            document.created_at,
            2,
            row_id=document.id,
            formats=[_supplier_format(document)],
            category=document.kind,
            number=document.number,
            date=document.document_date or document.created_at.astimezone(_zone()).date(),
            title=document.title,
            total=None,
            order_number=None,
        )
        for document in rows
    ]


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt="api.documents.cursor")


@blp.route("")
@requires(None)
@blp.arguments(DocumentListQuery, location="query", as_kwargs=True)
@blp.response(200, DocumentPageSchema)
def list_documents(limit=50, cursor=None, kind=None, to=None, **period):
    """The documents the key may open, newest first, a page at a time.

    Filter by `kind` and by the documents' dates (`from`, `to`); follow `next_cursor` (with
    the same filters) to the end. `downloads` gives each format's URL."""
    membership = g.membership
    start = period.get("from_")
    position = None
    if cursor:
        try:
            moment, rank, row_id, filters = _serializer().loads(cursor)
            position = (datetime.fromisoformat(moment), int(rank), int(row_id))
        except (BadSignature, ValueError, TypeError):
            position = filters = None
        if position is None or filters != [kind, str(start), str(to)]:
            raise Problem(
                422,
                _l("Correct the fields listed in «errors»."),
                errors=[
                    {
                        "location": "query",
                        "field": "cursor",
                        "message": str(
                            _l("The cursor is not one this API gave for these filters.")
                        ),
                    }
                ],
            )
    found = []
    if kind in (None, INVOICE) and _may_see_invoices(membership):
        found += _invoices(membership, start, to, position, limit + 1)
    primary_kinds = [k for k in (UPD, UKD) if kind in (None, k)]
    if primary_kinds and _may_see_primary(membership):
        found += _primary(membership, primary_kinds, start, to, position, limit + 1)
    if kind in (None, SUPPLIER):
        found += _supplier(membership, start, to, position, limit + 1)
    found.sort(key=lambda pair: pair[0], reverse=True)
    page, more = found[:limit], len(found) > limit
    next_cursor = None
    if more:
        moment, rank, row_id = page[-1][0]
        next_cursor = _serializer().dumps(
            [moment.isoformat(), rank, row_id, [kind, str(start), str(to)]]
        )
    return {"documents": [entry for _key, entry in page], "next_cursor": next_cursor}


# --- download --------------------------------------------------------------------------------


def _not_found():
    return Problem(404, _l("There is no document with this id in your organisation."))


def _forbidden():
    return Problem(
        403, _l("The key's powers do not open documents of this kind."), slug="missing-power"
    )


def _load(membership, document_id):
    """(kind, row) of the organisation's document, or a 404/403 problem, as the pages decide."""
    kind, _sep, raw = document_id.rpartition("-")
    if kind not in KINDS or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise _not_found()
    row_id = int(raw)
    if row_id > MAX_ID:
        raise _not_found()
    if kind == INVOICE:
        order = db.session.scalar(
            select(Order).where(
                Order.id == row_id, Order.organisation_id == membership.organisation_id
            )
        )
        if order is None or order.status == OrderStatus.CANCELLED:
            raise _not_found()
        if not _may_see_invoices(membership):
            raise _forbidden()
        return kind, order
    if kind in (UPD, UKD):
        document = db.session.scalar(
            select(PrimaryDocument).where(
                PrimaryDocument.id == row_id,
                PrimaryDocument.kind == kind,
                PrimaryDocument.organisation_id == membership.organisation_id,
            )
        )
        if document is None:
            raise _not_found()
        if not _may_see_primary(membership):
            raise _forbidden()
        return kind, document
    document = supplier_documents.get_visible_document(membership, row_id)
    if document is None:
        if supplier_documents.hidden_by_power(membership, row_id):
            raise _forbidden()
        raise _not_found()
    return kind, document


FILE_RESPONSE = {
    "description": "The file",
    "content": {
        mimetype: {"schema": {"type": "string", "format": "binary"}}
        for mimetype in ("application/pdf", XLSX, "application/xml", "application/octet-stream")
    },
}


@blp.route("/<string:document_id>.<string:fmt>")
@requires(None)
@blp.doc(responses={"200": FILE_RESPONSE})
def download_document(document_id, fmt):
    """Download a document in one of its `formats` (`pdf`, `xlsx`, `xml` where it exists).

    The same files and headers as the pages (an attachment, `Cache-Control: private,
    no-store`, `X-Content-Type-Options: nosniff`)."""
    membership = g.membership
    kind, row = _load(membership, document_id)
    if kind == SUPPLIER:
        if fmt.lower() != _supplier_format(row):
            raise Problem(
                404,
                _l("This document is available as: %(formats)s.", formats=_supplier_format(row)),
            )
        response = storage.send_stored(row.stored_name, row.original_name, row.content_type)
        return response
    found = FORMATS.get(kind, {}).get(fmt.lower())
    if found is None:
        offered = ", ".join(FORMATS.get(kind, {})) or "—"
        raise Problem(404, _l("This document is available as: %(formats)s.", formats=offered))
    try:
        content, name = found.render(row)
    except UserError as error:  # a requisite is missing: the operator's log names it
        current_app.logger.error("document %s refused: %s", row.id, error.field or error)
        raise Problem(409, error.message) from None
    if isinstance(content, bytes):
        content = io.BytesIO(content)
    response = send_file(content, mimetype=found.mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
