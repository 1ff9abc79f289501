"""Orders through the API (/api/v1/orders): place (idempotently, or as a dry run), list,
read, cancel — with the rules of the cart and the checkout (portal.orders.cart, .checkout).

A placed order's answer is stored under its Idempotency-Key (per organisation, with the
SHA-256 of the body): a repeat gets the same answer and status; the same key with another
body is refused (422); a parallel repeat waits for the first and gets its answer.
"""

import hashlib
import json
import secrets

import marshmallow as ma
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import transactions
from portal.api.auth import requires
from portal.api.order_models import IdempotentRequest
from portal.api.order_schemas import (
    DryRunQuery,
    OrderIn,
    OrderListQuery,
    OrderPageSchema,
    OrderSchema,
    QuoteSchema,
)
from portal.api.problems import PROBLEM_JSON, Problem
from portal.api.schemas import ProblemSchema
from portal.catalog.listing import items_by_code
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.inventory.delivery import earliest_delivery_date
from portal.money import document_vat, taxed_line_from_gross
from portal.orders import cart, checkout, workflow
from portal.orders.models import Order, OrderEvent, OrderStatus
from portal.organisations.models import PHARMACY_KINDS, Power

blp = Blueprint(
    "api_orders",
    __name__,
    url_prefix="/api/v1/orders",
    description="Place orders (idempotently or as a dry run), list, read and cancel them",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_DOC = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Any unique string per order (a UUID): a repeat returns the first answer.",
}


def max_lines() -> int:
    return int(current_app.config.get("API_ORDER_MAX_LINES", 5000))


# --- helpers ------------------------------------------------------------------------------


def _organisation():
    organisation = g.membership.organisation
    if organisation.kind not in PHARMACY_KINDS:
        raise Problem(404, _l("Ordering is open to pharmacies and medical institutions."))
    return organisation


def _prices() -> bool:
    return g.membership.has(Power.VIEW_PRICES)


def _money(value):
    return value if _prices() else None


def _vat_rows(pairs) -> list[dict]:
    return [{"rate": rate, "vat": vat} for rate, vat in pairs.items()] if _prices() else []


def _line_problem(index, line, code, message, field="quantity"):
    return {
        "location": "json",
        "field": f"lines.{index}.{field}",
        "message": str(message),
        "index": index,
        "sku": line.get("sku") or line.get("ean"),
        "code": code,
    }


def _lines_problem(errors):
    return Problem(
        422,
        _l(
            "%(count)s of the order's lines cannot be ordered; see «errors».",
            count=len({e["index"] for e in errors}),
        ),
        errors=errors,
        slug="order-lines",
        title=_l("The order has lines that cannot be ordered"),
    )


def _order_problem(error: UserError):
    field = error.field or "lines"
    return Problem(
        422,
        error.message,
        errors=[{"location": "json", "field": field, "message": str(error.message)}],
        slug="order-refused",
        title=_l("The order cannot be placed"),
    )


def _address_id(organisation, address_id):
    if address_id is not None:
        return address_id
    addresses = sorted(organisation.addresses, key=lambda a: (not a.is_default, a.id))
    return addresses[0].id if addresses else None


def _summarise(organisation, lines, address_id, payment_terms):
    """The lines matched and checked as the cart checks them; per-line problems raised."""
    try:
        address, warehouse = checkout.checkout_target(
            organisation, _address_id(organisation, address_id), payment_terms
        )
    except UserError as error:
        raise _order_problem(error) from None
    codes = [line.get("sku") or line.get("ean") for line in lines]
    items = items_by_code(codes)
    errors = []
    wanted: dict[int, cart.WantedLine] = {}
    indexes: dict[int, list[int]] = {}
    for index, (line, code) in enumerate(zip(lines, codes, strict=True)):
        item = items.get(code.strip())
        if item is None:
            field = "sku" if "sku" in line else "ean"
            errors.append(
                _line_problem(
                    index, line, "unknown_code", _l("No item with this code or barcode."), field
                )
            )
            continue
        if item.id in wanted:
            wanted[item.id].quantity += line["quantity"]
        else:
            wanted[item.id] = cart.WantedLine(item, line["quantity"])
        indexes.setdefault(item.id, []).append(index)
    summary = cart.summarise_lines(organisation, list(wanted.values()), warehouse)
    for row in summary.rows:
        if row.problem:
            for index in indexes[row.line.item_id]:
                errors.append(_line_problem(index, lines[index], row.problem_code, row.problem))
    if errors:
        raise _lines_problem(sorted(errors, key=lambda e: e["index"]))
    return summary, address, indexes


def _quote(summary, address, payment_terms, indexes) -> dict:
    out = []
    for row in summary.rows:
        for index in indexes[row.line.item_id][:1]:
            item = row.line.item
            out.append(
                {
                    "index": index,
                    "sku": item.sku,
                    "ean": item.barcode,
                    "name": item.full_name,
                    "quantity": row.line.quantity,
                    "price": _money(row.price),
                    "amount": _money(row.amount),
                    "vat_rate": row.vat_rate,
                    "promotion": (
                        {
                            "title": row.promotion.title,
                            "discount_percent": row.promotion.discount_percent,
                        }
                        if row.promotion is not None and _prices()
                        else None
                    ),
                }
            )
    out.sort(key=lambda r: r["index"])
    return {
        "dry_run": True,
        "lines": out,
        "total": _money(summary.total),
        "vat_total": _money(summary.vat_total),
        "vat_by_rate": _vat_rows(summary.vat_by_rate),
        "payment_terms": payment_terms,
        "delivery_address": address.address,
        "delivery_date": earliest_delivery_date(summary.warehouse),
        "warehouse": summary.warehouse.name,
    }


def _updated_at(order: Order):
    return max((event.at for event in order.events), default=order.created_at)


def order_summary(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "status_label": str(OrderStatus(order.status).label),
        "placed_at": order.created_at,
        "updated_at": _updated_at(order),
        "payment_terms": order.payment_terms,
        "delivery_date": order.delivery_date,
        "total": _money(order.total),
        "lines_count": len(order.lines),
    }


def order_payload(order: Order) -> dict:
    vat = document_vat(taxed_line_from_gross(line.amount, line.vat_rate) for line in order.lines)
    return {
        **order_summary(order),
        "delivery_address": order.delivery_address,
        "comment": order.comment,
        "warehouse": order.warehouse.name,
        "vat_total": _money(order.vat_total),
        "vat_by_rate": _vat_rows(vat),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "shipped_quantity": line.shipped_quantity,
                "price": _money(line.price),
                "vat_rate": line.vat_rate,
                "amount": _money(line.amount),
            }
            for line in order.lines
        ],
        "timeline": [
            {"status": event.status, "at": event.at, "note": event.note} for event in order.events
        ],
    }


def _body_sha256(body: dict) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise Problem(
            400,
            _l("The Idempotency-Key header must be 1 to 255 printable characters."),
            errors=[
                {
                    "location": "headers",
                    "field": IDEMPOTENCY_HEADER,
                    "message": _("1 to 255 printable characters."),
                }
            ],
        )
    return key


def _replay(stored: IdempotentRequest, digest: str):
    if stored.request_sha256 != digest:
        raise Problem(
            422,
            _l(
                "This Idempotency-Key was used for a different request; send a new key for "
                "a new order."
            ),
            slug="idempotency-key-reused",
            title=_l("The idempotency key is already used"),
        )
    response = _json(stored.response_body, stored.status_code)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _stored(organisation_id, key):
    return db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.organisation_id == organisation_id, IdempotentRequest.key == key
        )
    )


# --- routes -------------------------------------------------------------------------------


@blp.route("", methods=["POST"])
@requires(Power.ORDER)
@blp.arguments(DryRunQuery, location="query", unknown=ma.RAISE, as_kwargs=True)
@blp.arguments(OrderIn)
@blp.doc(parameters=[IDEMPOTENCY_DOC])
@blp.response(201, OrderSchema, description="The order is placed")
@blp.alt_response(200, schema=QuoteSchema, description="A dry run: the lines priced")
@blp.alt_response(
    422,
    schema=ProblemSchema,
    content_type=PROBLEM_JSON,
    description="Problems: one entry per line in «errors» (index, sku, code, message)",
)
@blp.alt_response(
    413, schema=ProblemSchema, content_type=PROBLEM_JSON, description="More lines than allowed"
)
def create_order(body, dry_run=False):
    """Place an order of lines given by SKU or EAN.

    The checks of the cart and the checkout: minimum, multiple, stock, price, VAT, credit
    limit and credit hold for deferred payment, the running promotions in the prices. All or
    nothing: a problem in any line places nothing and lists every line's problem. With
    `dry_run` (query or body): the same checks and the prices, nothing placed. Send an
    `Idempotency-Key`: a repeat returns the first answer (with `Idempotent-Replayed: true`).
    """
    organisation = _organisation()
    lines = body["lines"]
    if len(lines) > max_lines():
        raise Problem(
            413,
            _l("An order may have at most %(count)s lines; split it.", count=max_lines()),
            slug="too-many-lines",
            title=_l("Too many lines"),
        )
    dry_run = dry_run or body.get("dry_run", False)
    if dry_run:
        summary, address, indexes = _summarise(
            organisation, lines, body.get("address_id"), body["payment_terms"]
        )
        try:
            checkout.credit_check(organisation, summary.total, body["payment_terms"], lock=False)
        except UserError as error:
            raise _order_problem(error) from None
        quote = _quote(summary, address, body["payment_terms"], indexes)
        transactions.refuse()  # a dry run keeps nothing
        return _json(QuoteSchema().dump(quote), 200)
    key = _idempotency_key()
    digest = _body_sha256({k: v for k, v in body.items() if k != "dry_run"})
    stored = None
    if key is not None:
        found = _stored(organisation.id, key)
        if found is not None:
            return _replay(found, digest)
        stored = IdempotentRequest(
            organisation_id=organisation.id,
            key=key,
            operation="orders.create",
            request_sha256=digest,
        )
        try:
            # A parallel repeat waits here on the unique index until the first commits.
            # (Not a savepoint on SQLite: pysqlite's RELEASE of one would commit the row.)
            if db.session.get_bind().dialect.name == "sqlite":
                db.session.add(stored)
                db.session.flush()
            else:
                with db.session.begin_nested():
                    db.session.add(stored)
                    db.session.flush()
        except IntegrityError:
            db.session.rollback()
            found = _stored(organisation.id, key)
            if found is None:
                raise Problem(409, _l("The same request is being processed; repeat it.")) from None
            return _replay(found, digest)
    try:
        summary, address, _indexes = _summarise(
            organisation, lines, body.get("address_id"), body["payment_terms"]
        )
        order_key = (
            "api-" + hashlib.sha256(f"{organisation.id}:{key}".encode()).hexdigest()[:40]
            if key is not None
            else "api-" + secrets.token_urlsafe(24)
        )
        order, _created = checkout.create_order(
            g.membership.user,
            organisation,
            summary,
            address=address,
            payment_terms=body["payment_terms"],
            comment=body.get("comment"),
            idempotency_key=order_key,
        )
    except UserError as error:  # refused (and not stored: it may be sent again)
        raise _order_problem(error) from None
    text = json.dumps(OrderSchema().dump(order_payload(order)), ensure_ascii=False)
    if stored is not None:
        stored.status_code = 201
        stored.order_id = order.id
        stored.response_body = text
    return _json(text, 201)


def _json(payload, status):
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return current_app.response_class(text, status=status, mimetype="application/json")


def _cursor_serializer():
    return URLSafeSerializer(current_app.secret_key, salt="api.orders.cursor")


@blp.route("", methods=["GET"])
@requires(Power.ORDER)
@blp.arguments(OrderListQuery, location="query", unknown=ma.RAISE, as_kwargs=True)
@blp.response(200, OrderPageSchema)
def list_orders(limit=50, cursor=None, status=None, updated_since=None):
    """The organisation's orders, newest first, a page at a time (`next_cursor`).

    `status` filters; `updated_since` keeps the orders with a status event since then (keep
    the first page's `server_time` for the next sync)."""
    organisation = _organisation()
    server_time = utcnow()
    statement = select(Order).where(Order.organisation_id == organisation.id)
    if cursor:
        try:
            before = int(_cursor_serializer().loads(cursor))
        except (BadSignature, ValueError, TypeError):
            raise Problem(
                422,
                _l("Correct the fields listed in «errors»."),
                errors=[
                    {
                        "location": "query",
                        "field": "cursor",
                        "message": _("The cursor is not one this API gave."),
                    }
                ],
            ) from None
        statement = statement.where(Order.id < before)
    if status:
        statement = statement.where(Order.status == status)
    if updated_since is not None:
        statement = statement.where(
            exists().where(OrderEvent.order_id == Order.id, OrderEvent.at >= updated_since)
        )
    statement = statement.options(selectinload(Order.events), selectinload(Order.lines))
    rows = db.session.scalars(statement.order_by(Order.id.desc()).limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    return {
        "orders": [order_summary(order) for order in page],
        "next_cursor": _cursor_serializer().dumps(page[-1].id) if more else None,
        "server_time": server_time,
    }


def _order_or_404(number) -> Order:
    organisation = _organisation()
    order = None
    if "\x00" not in number:
        order = db.session.scalar(
            select(Order).where(
                Order.organisation_id == organisation.id, Order.number == number[:20]
            )
        )
    if order is None:
        raise Problem(404, _l("Your organisation has no order with this number."))
    return order


@blp.route("/<string:number>")
@requires(Power.ORDER)
@blp.response(200, OrderSchema)
def show_order(number):
    """One order with its lines, totals with VAT by rate and the status timeline."""
    return order_payload(_order_or_404(number))


@blp.route("/<string:number>/cancel", methods=["POST"])
@requires(Power.ORDER)
@blp.response(200, OrderSchema)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="No longer new")
def cancel_order(number):
    """Cancel an order while it is new (not yet confirmed); its packs go back on the shelf."""
    order = _order_or_404(number)
    try:
        workflow.cancel_order(order, g.membership.user)
    except UserError as error:
        raise Problem(409, error.message, slug="order-not-new") from None
    return order_payload(order)
