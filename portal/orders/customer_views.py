"""The buyer's side of ordering: the cart, checkout and the organisation's orders.

Every route exists only for pharmacies and medical organisations (`kinds=PHARMACY_KINDS`);
the menu hides its entries by the same rule. Nothing here commits: the request does, once,
at its end (portal/transactions.py); a refused form answers 422 and writes nothing.
"""

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal import billing, errors, partials, transactions
from portal.accounts.forms import ConfirmForm
from portal.billing import payment_qr, payment_status
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.inventory import delivery, shelf_life
from portal.inventory.warehouses import serving_warehouse
from portal.orders import bp, cart, checkout, documents, workflow
from portal.orders.forms import AddToCartForm, CheckoutForm, OrderFileForm, QuickOrderForm
from portal.orders.models import Order, OrderStatus
from portal.orders.order_files import parse_quick_order, read_order_file
from portal.organisations.models import PHARMACY_KINDS, Power
from portal.pharmacy import series
from portal.security import (
    access,
    current_organisation,
    get_scoped_or_404,
    has_power,
    safe_next_url,
    scoped,
)

# --- cart -----------------------------------------------------------------------------------


@bp.route("/cart")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def show_cart():
    return _cart_page()


def _cart_page(status=200):
    summary = cart.summarise_cart(current_user.id, current_organisation())
    page = render_template(
        "orders/cart.html",
        summary=summary,
        short_life=shelf_life.short_items(row.line.item_id for row in summary.rows),
        show_prices=has_power(Power.VIEW_PRICES),
        form=ConfirmForm(),
    )
    return page, status


@bp.route("/cart/add", methods=["POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def add_to_cart():
    """Add packs of an item. A partial update (htmx) gets the row's message and the top bar's
    cart count; a plain form gets a redirect back with the message flashed."""
    form = AddToCartForm()
    target = safe_next_url(form.next.data, url_for("orders.show_cart"))
    if not form.validate_on_submit():
        return _added(target, _("Enter a whole number of packs greater than zero."), ok=False)
    try:
        item_id = int(form.item_id.data or 0)
        line = cart.add_to_cart(
            current_user.id,
            current_organisation(),
            item_id,
            cart.parse_quantity(form.quantity.data),
        )
    except UserError as error:
        return _added(target, str(error.message), ok=False)
    except ValueError:
        abort(400)
    message = _(
        "«%(name)s» is in the cart: %(count)s packs.",
        name=line.item.full_name,
        count=line.quantity,
    )
    return _added(target, message, ok=True)


def _added(target, message, *, ok):
    if not ok:
        transactions.refuse()
    if partials.is_htmx():
        fragment = render_template("orders/_cart_status.html", message=message, ok=ok)
        return fragment + partials.top_bar_counts(), 200 if ok else 422
    flash(message, "success" if ok else "error")
    return redirect(target)


@bp.route("/cart/update", methods=["POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def update_cart():
    """Save every quantity field of the cart form; 0 removes a line. One bad line saves none.

    A partial update (htmx) sends one line's quantity, or «Remove» for one line, and gets that
    row back (or nothing, when it went) with the totals, the buttons and the top bar's cart
    count out of band; a refused quantity answers 422 with its message in the row."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    organisation = current_organisation()
    remove = request.form.get("remove", type=int)
    failed = None  # (line id, the typed quantity) of the refused line
    try:
        # A savepoint: a refused line undoes the lines saved before it, so the answer shows
        # the cart as it stays.
        with db.session.begin_nested():
            if remove:
                cart.remove_from_cart(current_user.id, organisation.id, remove)
            else:
                for line in cart.cart_lines(current_user.id, organisation.id):
                    raw = request.form.get(f"quantity-{line.id}")
                    if raw is None:
                        continue
                    failed = (line.id, raw)
                    quantity = 0 if raw.strip() == "0" else cart.parse_quantity(raw)
                    try:
                        cart.set_cart_quantity(current_user.id, organisation, line.id, quantity)
                    except UserError as error:
                        raise UserError(f"«{line.item.full_name}»: {error.message}") from error
                failed = None
    except UserError as error:
        if partials.is_htmx():
            transactions.refuse()
            return _cart_fragment(organisation, failed, str(error.message))
        errors.show(error)
        return _cart_page(status=422)  # the cart as it stays, with the message
    if partials.is_htmx():
        changed = remove or next(
            (int(key.split("-", 1)[1]) for key in request.form if key.startswith("quantity-")),
            None,
        )
        return _cart_fragment(organisation, (changed, None), None)
    flash(_("The cart is updated."), "success")
    return redirect(url_for("orders.show_cart"))


def _cart_fragment(organisation, changed, error):
    """The changed cart row (gone if removed), then out of band the totals, the buttons and
    the top bar's count; when the cart is now empty, the whole cart body instead."""
    summary = cart.summarise_cart(current_user.id, organisation)
    context = {"summary": summary, "show_prices": has_power(Power.VIEW_PRICES)}
    line_id, typed = changed if changed else (None, None)
    counts = partials.top_bar_counts()
    if not summary.rows:
        body = render_template("orders/_cart_body.html", form=ConfirmForm(), **context)
        headers = {"HX-Retarget": "#cart-body", "HX-Reswap": "outerHTML"}
        return body + counts, 422 if error else 200, headers
    row = next((r for r in summary.rows if r.line.id == line_id), None)
    parts = []
    if row is not None:
        short_life = shelf_life.short_items([row.line.item_id])
        parts.append(
            render_template(
                "orders/_cart_line.html",
                row=row,
                error=error,
                typed=typed,
                short_life=short_life,
                **context,
            )
        )
    if error is None or row is None:
        parts.append(render_template("orders/_cart_totals.html", oob=True, **context))
        parts.append(render_template("orders/_cart_actions.html", oob=True, **context))
        parts.append(counts)
    return "".join(parts), 422 if error else 200


def _bulk_added(form, rows, template):
    """Add the rows of a quick order or an order file; the page again (422) when none went."""
    result = cart.add_rows_to_cart(
        current_user.id, current_organisation(), rows, skip_invalid=form.skip_invalid.data
    )
    if result.added and (not result.rejected or form.skip_invalid.data):
        flash(_("%(count)s lines added to the cart.", count=result.added), "success")
        if not result.rejected:
            return redirect(url_for("orders.show_cart"))
    else:
        transactions.refuse()
    return errors.form_page(template, form=form, result=result)


@bp.route("/cart/quick", methods=["GET", "POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def quick_order():
    form = QuickOrderForm()
    if form.validate_on_submit():
        return _bulk_added(form, parse_quick_order(form.lines.data), "orders/quick_order.html")
    return errors.form_page("orders/quick_order.html", form=form, result=None)


@bp.route("/cart/upload", methods=["GET", "POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def upload_order_file():
    form = OrderFileForm()
    if form.validate_on_submit():
        upload = form.file.data
        # ORDER_FILE_MAX_BYTES (optional) tightens the site-wide upload limit for order files.
        limit = current_app.config.get("ORDER_FILE_MAX_BYTES") or (
            current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        )
        data = upload.read(limit + 1)
        upload.close()  # large uploads are spooled to a temporary file
        try:
            if len(data) > limit:
                raise UserError(
                    _("The file is larger than %(mb)s MB.", mb=f"{limit / 1048576:.3g}")
                )
            rows = read_order_file(
                upload.filename, data, form.code_column.data, form.quantity_column.data
            )
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            return _bulk_added(form, rows, "orders/upload.html")
    return errors.form_page("orders/upload.html", form=form, result=None)


# --- checkout ---------------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"], endpoint="checkout")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def checkout_page():
    organisation = current_organisation()
    form = CheckoutForm()
    form.address_id.choices = choices((a.id, a.address) for a in organisation.addresses)
    if request.method == "GET":
        default = next((a for a in organisation.addresses if a.is_default), None)
        if default is not None:
            form.address_id.data = default.id
        # A fresh key per checkout page: a resubmit of this page finds the order it made.
        form.idempotency_key.data = secrets.token_urlsafe(24)
    address = next((a for a in organisation.addresses if a.id == form.address_id.data), None)
    warehouse = serving_warehouse(organisation, address)
    dates = delivery.delivery_dates(warehouse) if warehouse else []
    form.delivery_date.choices = choices(
        (day.isoformat(), format_date(day, "EEEE, d MMMM")) for day in dates
    )
    if request.method == "GET" and dates:
        form.delivery_date.data = dates[0].isoformat()
    # The one summary of this request: the page shows it, the order is made of it.
    summary = cart.summarise_cart(current_user.id, organisation, warehouse)
    if form.validate_on_submit():
        try:
            order, created = checkout.place_order(
                current_user,
                organisation,
                summary,
                address_id=form.address_id.data,
                payment_terms=form.payment_terms.data,
                comment=form.comment.data,
                idempotency_key=form.idempotency_key.data,
                delivery_date=form.delivery_date.data or None,
            )
        except UserError as error:
            errors.show(error, form)
            # Refused: the page shows the cart as it is now (stock may have gone meanwhile).
            summary = cart.summarise_cart(current_user.id, organisation, warehouse)
        else:
            if created:
                flash(_("Order %(number)s is placed.", number=order.number), "success")
            return redirect(url_for("orders.show_order", order_id=order.id))
    elif not summary.rows and request.method == "GET":
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("orders.show_cart"))
    return errors.form_page(
        "orders/checkout.html",
        form=form,
        summary=summary,
        warehouse=warehouse,
        credit=checkout.available_credit(organisation),
        # On credit hold the buyer learns before submitting that deferred payment is refused.
        deferred_refusal=billing.deferred_order_refusal(organisation.id),
        show_prices=has_power(Power.VIEW_PRICES),
    )


# --- the buyer's orders -----------------------------------------------------------------------


@bp.route("/orders")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def list_orders():
    query = scoped(Order).order_by(Order.created_at.desc(), Order.id.desc())
    status = request.args.get("status")
    if status in OrderStatus.__members__.values():
        query = query.where(Order.status == status)
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template(
        "orders/list.html",
        page=page,
        status=status,
        statuses=OrderStatus,
        show_prices=has_power(Power.VIEW_PRICES),
        payments=payment_status.order_statuses(page.items),
    )


@bp.route("/orders/<int:order_id>")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def show_order(order_id):
    order = get_scoped_or_404(Order, order_id)
    tickets = "tickets.new_ticket" in current_app.view_functions
    show_prices = has_power(Power.VIEW_PRICES)
    return render_template(
        "orders/order.html",
        order=order,
        line_series=series.series_by_line(line.id for line in order.lines),
        shipment=billing.shipment_of(order.id),
        payment=payment_status.document_status(order),
        payment_qr=payment_qr.order_payment_qr(order) if show_prices else None,
        show_prices=show_prices,
        return_link=(
            url_for("tickets.new_ticket", type="return", order_id=order.id)
            if tickets and order.status == OrderStatus.DELIVERED
            else None
        ),
        form=ConfirmForm(),
    )


@bp.route("/orders/<int:order_id>/documents")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def order_documents(order_id):
    """The order's «Документы» tab: invoice, УПД (PDF, XLSX) and the order as XLSX."""
    order = get_scoped_or_404(Order, order_id)
    upd = billing.upd_of_order(order.id)
    upd_total = None
    if upd is not None:
        from portal.billing.primary import snapshot_of

        upd_total = snapshot_of(upd)["totals"]["total"]
    return render_template(
        "orders/documents.html",
        order=order,
        shipment=billing.shipment_of(order.id),
        upd=upd,
        upd_total=upd_total,
        show_prices=has_power(Power.VIEW_PRICES),
    )


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def cancel_order(order_id):
    order = get_scoped_or_404(Order, order_id)
    if ConfirmForm().validate_on_submit():
        try:
            workflow.cancel_order(order, current_user)
        except UserError as error:
            errors.show(error)
        else:
            flash(_("Order %(number)s is cancelled.", number=order.number), "success")
    return redirect(url_for("orders.show_order", order_id=order_id))


@bp.route("/orders/<int:order_id>/reorder", methods=["POST"])
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def reorder(order_id):
    order = get_scoped_or_404(Order, order_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("orders.show_order", order_id=order_id))
    result = cart.reorder(order, current_user, current_organisation())
    if result.added:
        flash(_("%(count)s lines added to the cart.", count=result.added), "success")
    for rejected in result.rejected:
        flash(f"{rejected.code}: {rejected.reason}", "warning")
    return redirect(url_for("orders.show_cart"))


def _require_prices():
    if not has_power(Power.VIEW_PRICES):
        abort(403)


@bp.route("/orders/<int:order_id>/invoice.pdf")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def invoice_pdf(order_id):
    order = get_scoped_or_404(Order, order_id)
    _require_prices()
    if order.status == OrderStatus.CANCELLED:
        abort(404)
    try:
        pdf = documents.invoice_pdf(order)
    except UserError as error:
        # Never a blank requisite on a payment document: the buyer is told, the operator logs.
        current_app.logger.error("invoice %s refused: %s", order.number, error.field)
        errors.show(error, category="danger")
        return redirect(url_for("orders.show_order", order_id=order.id))
    return current_app.response_class(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{order.number}.pdf"'},
    )


@bp.route("/orders/<int:order_id>/order.xlsx")
@access.power(Power.ORDER, kinds=PHARMACY_KINDS)
def order_xlsx(order_id):
    order = get_scoped_or_404(Order, order_id)
    _require_prices()
    return send_file(
        documents.order_xlsx(order),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"order-{order.number}.xlsx",
    )
