"""The catalogue as pharmacies and medical institutions see it: search, item cards,
favourites, promotions, the price list. Staff pages: staff_views.py; commands: commands.py.

Every route exists only for PHARMACY_KINDS (access.customer_of / access.power with kinds=):
for gas customers the catalogue does not exist (404), and the menu hides it by the same rule.
"""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import caching, partials
from portal.accounts.forms import ConfirmForm
from portal.catalog import (
    bp,
    favourites,
    listing,
    pricing,
    search,
    staff_views,  # noqa: F401 - attaches the staff routes to bp
    tables,
)
from portal.catalog import certificates as certs
from portal.catalog.models import Item, ItemCertificate
from portal.catalog.price_list import price_list_workbook
from portal.extensions import db
from portal.inventory import delivery, shelf_life
from portal.inventory import stock as inventory
from portal.inventory.models import Stock
from portal.inventory.warehouses import serving_warehouse, serving_warehouse_ref
from portal.organisations.models import PHARMACY_KINDS, Power
from portal.request_guard import int_arg, text_arg
from portal.security import access, current_organisation, has_power, safe_next_url

pharmacy_customer = access.customer_of(PHARMACY_KINDS)


def _filters_from_request() -> search.SearchFilters:
    args = request.args
    sort = args.get("sort", "name")
    return search.SearchFilters(
        text=text_arg("q"),
        category_id=int_arg("category"),
        manufacturer_id=int_arg("manufacturer"),
        rx=args.get("rx", "") if args.get("rx") in ("yes", "no") else "",
        in_stock=bool(args.get("in_stock")),
        promotion=bool(args.get("promotion")),
        vital=bool(args.get("vital")),
        sort=sort if sort in search.SORTS else "name",
    )


def _filter_args(filters: search.SearchFilters) -> dict:
    values = {
        "q": filters.text,
        "category": filters.category_id,
        "manufacturer": filters.manufacturer_id,
        "rx": filters.rx,
        "in_stock": 1 if filters.in_stock else None,
        "promotion": 1 if filters.promotion else None,
        "vital": 1 if filters.vital else None,
        "sort": filters.sort if filters.sort != "name" else None,
    }
    return {k: v for k, v in values.items() if v}


def _item_context(items, organisation):
    """Prices (only for VIEW_PRICES), stock in the serving warehouse, favourites of a page."""
    ids = [item.id for item in items]
    show_prices = has_power(Power.VIEW_PRICES)
    quotes = pricing.quotes_for(organisation.id, ids) if show_prices else {}
    warehouse = serving_warehouse(organisation)
    stock = inventory.stock_in(warehouse.id, ids) if warehouse else {}
    return {
        "show_prices": show_prices,
        "quotes": quotes,
        "stock": stock,
        "warehouse": warehouse,
        "favourite_ids": favourites.favourite_ids(current_user.id, organisation.id, ids),
        "can_order": has_power(Power.ORDER),
    }


@bp.route("/catalog/")
@pharmacy_customer
def list_items():
    organisation = current_organisation()
    filters = _filters_from_request()
    by_price = filters.sort.startswith("price") and has_power(Power.VIEW_PRICES)
    page_number = min(max(request.args.get("page", 1, type=int), 1), 10_000)
    # The cached facts the page asks for below, read from the shared cache in one round trip
    # (the answer too, unless its key needs the warehouse or the price terms first).
    wanted = [(caching.SERVING_WAREHOUSE, organisation.id), (caching.FILTER_CHOICES, "all")]
    if not filters.in_stock and not by_price:
        wanted.append(search.answer_key(filters, page_number))
    caching.prefetch(*wanted)
    warehouse = serving_warehouse_ref(organisation)
    found = search.find(
        filters,
        page_number,
        terms=pricing.terms_for(organisation.id) if by_price else None,
        warehouse_id=warehouse.id if warehouse else None,
    )
    show_prices, can_order = has_power(Power.VIEW_PRICES), has_power(Power.ORDER)
    page = search.ResultPage(
        page=page_number,
        per_page=search.PAGE_SIZE,
        error_out=False,
        items=_listing(found.ids, organisation, warehouse, show_prices),
        total=found.total,
    )
    categories, manufacturers = search.filter_choices()
    return render_template(
        "catalog/list.html",
        page=page,
        table=tables.items_table(
            page.items,
            show_prices=show_prices,
            can_order=can_order,
            short_life=shelf_life.short_items(found.ids) if found.ids else None,
        ),
        filters=filters,
        filter_args=_filter_args(filters),
        fuzzy=found.fuzzy,
        suggestions=found.suggestions,
        sorts=search.SORTS,
        categories=categories,
        manufacturers=manufacturers,
        # On the catalogue's start page: below a page of results nobody scrolls to them.
        recent=favourites.recently_viewed(current_user.id, organisation.id, limit=6)
        if page_number == 1 and filters == search.SearchFilters()
        else [],
        warehouse=warehouse,
        show_prices=show_prices,
        can_order=can_order,
    )


def _listing(item_ids, organisation, warehouse, show_prices):
    return listing.listing(
        item_ids,
        organisation_id=organisation.id,
        user_id=current_user.id,
        warehouse_id=warehouse.id if warehouse else None,
        with_prices=show_prices,
    )


@bp.route("/catalog/items/<int:item_id>")
@pharmacy_customer
def show_item(item_id):
    organisation = current_organisation()
    item = db.get_or_404(Item, item_id)
    if not item.is_active:
        abort(404)
    favourites.record_view(current_user.id, organisation.id, item.id)
    stock_rows = db.session.scalars(
        select(Stock).where(Stock.item_id == item.id).order_by(Stock.warehouse_id)
    ).all()
    context = _item_context([item], organisation)
    warehouse = context["warehouse"]
    return render_template(
        "catalog/item.html",
        item=item,
        stock_rows=stock_rows,
        nearest_expiry=inventory.nearest_expiry(item.id),
        series_in_stock=shelf_life.in_stock(item.id),
        short_life=shelf_life.short_items([item.id]).get(item.id),
        delivery_date=delivery.earliest_delivery_date(warehouse) if warehouse else None,
        is_favourite=item.id in context["favourite_ids"],
        certificates=certs.certificates_of(item.id),
        today=pricing.today(),
        form=ConfirmForm(),
        **context,
    )


@bp.route("/catalog/items/<int:item_id>/certificates/<int:certificate_id>")
@pharmacy_customer
def download_certificate(item_id, certificate_id):
    # Gas customers never get here: the access rule answers 404 first.
    certificate = db.session.scalar(
        select(ItemCertificate)
        .join(Item, Item.id == ItemCertificate.item_id)
        .where(
            ItemCertificate.id == certificate_id,
            ItemCertificate.item_id == item_id,
            Item.is_active.is_(True),
        )
    )
    if certificate is None:
        abort(404)
    return certs.send_certificate(certificate)


@bp.route("/catalog/items/<int:item_id>/favourite", methods=["POST"])
@pharmacy_customer
def toggle_favourite(item_id):
    item = db.get_or_404(Item, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        now = favourites.toggle_favourite(current_user.id, current_organisation().id, item.id)
        message = _("Added to favourites.") if now else _("Removed from favourites.")
        if partials.is_htmx():  # the card's button in its new state, no reload
            return render_template(
                "catalog/_favourite.html", item=item, is_favourite=now, form=form, message=message
            )
        flash(message, "success")
    elif partials.is_htmx():
        abort(400)
    fallback = url_for("catalog.show_item", item_id=item.id)
    return redirect(safe_next_url(request.form.get("next"), fallback))


@bp.route("/catalog/favourites")
@pharmacy_customer
def list_favourites():
    organisation = current_organisation()
    show_prices = has_power(Power.VIEW_PRICES)
    ids = favourites.favourite_item_ids(current_user.id, organisation.id)
    items = _listing(ids, organisation, serving_warehouse_ref(organisation), show_prices)
    return render_template(
        "catalog/favourites.html",
        items=items,
        table=tables.items_table(items, show_prices=show_prices, can_order=has_power(Power.ORDER)),
        recent=favourites.recently_viewed(current_user.id, organisation.id, limit=12),
    )


@bp.route("/catalog/promotions")
@pharmacy_customer
def list_promotions():
    organisation = current_organisation()
    promotions = pricing.active_promotions()
    items = [p.item for p in promotions if p.item is not None]
    return render_template(
        "catalog/promotions.html",
        promotions=promotions,
        form=ConfirmForm(),
        **_item_context(items, organisation),
    )


@bp.route("/catalog/price-list.xlsx")
@access.power(Power.VIEW_PRICES, kinds=PHARMACY_KINDS)
def download_price_list():
    organisation = current_organisation()
    handle = price_list_workbook(organisation)
    return send_file(
        handle,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"price-list-{organisation.inn}.xlsx",
    )
