import click
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import partials
from portal.accounts.forms import ConfirmForm
from portal.catalog import PHARMACY_KINDS, bp, importer, search, tables
from portal.catalog import certificates as certs
from portal.catalog import services as catalog
from portal.catalog.forms import CERTIFICATE_KIND_LABELS, CatalogImportForm, CertificateForm
from portal.catalog.models import (
    Item,
    ItemCertificate,
    Stock,
    normalise_search_text,
)
from portal.catalog.price_list import price_list_workbook
from portal.collation import ordered
from portal.documents import storage
from portal.extensions import db
from portal.organisations.models import Power
from portal.request_guard import int_arg, text_arg
from portal.security import access, current_organisation, has_power, safe_next_url


@bp.before_request
def catalogue_only_for_pharmacies():
    """Gas and other customers have no catalogue: for them these pages do not exist."""
    if not current_user.is_authenticated or current_user.is_staff:
        return
    organisation = current_organisation()
    if organisation is not None and organisation.kind not in PHARMACY_KINDS:
        abort(404)


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
    quotes = catalog.quotes_for(organisation.id, ids) if show_prices else {}
    warehouse = catalog.warehouse_for_organisation(organisation)
    stock = catalog.stock_in(warehouse.id, ids) if warehouse else {}
    return {
        "show_prices": show_prices,
        "quotes": quotes,
        "stock": stock,
        "warehouse": warehouse,
        "favourite_ids": catalog.favourite_ids(current_user.id, organisation.id, ids),
        "can_order": has_power(Power.ORDER),
    }


@bp.route("/catalog/")
@access.customer
def list_items():
    organisation = current_organisation()
    filters = _filters_from_request()
    warehouse = catalog.serving_warehouse_ref(organisation)
    by_price = filters.sort.startswith("price") and has_power(Power.VIEW_PRICES)
    page_number = min(max(request.args.get("page", 1, type=int), 1), 10_000)
    found = search.find(
        filters,
        page_number,
        terms=catalog.terms_for(organisation.id) if by_price else None,
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
        table=tables.items_table(page.items, show_prices=show_prices, can_order=can_order),
        filters=filters,
        filter_args=_filter_args(filters),
        fuzzy=found.fuzzy,
        suggestions=found.suggestions,
        sorts=search.SORTS,
        categories=categories,
        manufacturers=manufacturers,
        # On the catalogue's start page: below a page of results nobody scrolls to them.
        recent=catalog.recently_viewed(current_user.id, organisation.id, limit=6)
        if page_number == 1 and filters == search.SearchFilters()
        else [],
        warehouse=warehouse,
        show_prices=show_prices,
        can_order=can_order,
    )


def _listing(item_ids, organisation, warehouse, show_prices):
    return catalog.listing(
        item_ids,
        organisation_id=organisation.id,
        user_id=current_user.id,
        warehouse_id=warehouse.id if warehouse else None,
        with_prices=show_prices,
    )


@bp.route("/catalog/items/<int:item_id>")
@access.customer
def show_item(item_id):
    organisation = current_organisation()
    item = db.get_or_404(Item, item_id)
    if not item.is_active:
        abort(404)
    catalog.record_view(current_user.id, organisation.id, item.id)
    db.session.commit()
    stock_rows = db.session.scalars(
        select(Stock).where(Stock.item_id == item.id).order_by(Stock.warehouse_id)
    ).all()
    context = _item_context([item], organisation)
    warehouse = context["warehouse"]
    return render_template(
        "catalog/item.html",
        item=item,
        stock_rows=stock_rows,
        nearest_expiry=catalog.nearest_expiry(item.id),
        delivery_date=catalog.delivery_date_for(warehouse) if warehouse else None,
        is_favourite=item.id in context["favourite_ids"],
        certificates=certs.certificates_of(item.id),
        certificate_kinds=CERTIFICATE_KIND_LABELS,
        today=catalog.today(),
        form=ConfirmForm(),
        **context,
    )


@bp.route("/catalog/items/<int:item_id>/certificates/<int:certificate_id>")
@access.customer
def download_certificate(item_id, certificate_id):
    # Gas customers never get here: catalogue_only_for_pharmacies answers 404 first.
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
    return _send_certificate(certificate)


def _send_certificate(certificate):
    return storage.send_stored(
        certs.relative_path(certificate.stored_name), certificate.original_name, storage.PDF
    )


@bp.route("/catalog/items/<int:item_id>/favourite", methods=["POST"])
@access.customer
def toggle_favourite(item_id):
    item = db.get_or_404(Item, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        now = catalog.toggle_favourite(current_user.id, current_organisation().id, item.id)
        db.session.commit()
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
@access.customer
def list_favourites():
    organisation = current_organisation()
    show_prices = has_power(Power.VIEW_PRICES)
    ids = catalog.favourite_item_ids(current_user.id, organisation.id)
    items = _listing(ids, organisation, catalog.serving_warehouse_ref(organisation), show_prices)
    return render_template(
        "catalog/favourites.html",
        items=items,
        table=tables.items_table(items, show_prices=show_prices, can_order=has_power(Power.ORDER)),
        recent=catalog.recently_viewed(current_user.id, organisation.id, limit=12),
    )


@bp.route("/catalog/promotions")
@access.customer
def list_promotions():
    organisation = current_organisation()
    promotions = catalog.active_promotions()
    items = [p.item for p in promotions if p.item is not None]
    return render_template(
        "catalog/promotions.html",
        promotions=promotions,
        form=ConfirmForm(),
        **_item_context(items, organisation),
    )


@bp.route("/catalog/price-list.xlsx")
@access.power(Power.VIEW_PRICES)
def download_price_list():
    organisation = current_organisation()
    handle = price_list_workbook(organisation)
    return send_file(
        handle,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"price-list-{organisation.inn}.xlsx",
    )


@bp.route("/backoffice/catalog/import", methods=["GET", "POST"])
@access.staff("admin")
def import_catalog():
    form = CatalogImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        upload.close()  # large uploads are spooled to a temporary file
        try:
            report = importer.import_catalog(upload.filename, data, dry_run=form.dry_run.data)
        except importer.ImportFileError as error:
            db.session.rollback()
            form.file.errors.append(error.message)
        else:
            if report.rejected or form.dry_run.data:
                db.session.rollback()
            else:
                db.session.commit()
                search.forget_cached_results()
                flash(
                    _(
                        "Catalogue imported: %(created)s created, %(updated)s updated.",
                        created=report.created,
                        updated=report.updated,
                    ),
                    "success",
                )
                return redirect(url_for("catalog.import_catalog"))
    return render_template("catalog/import.html", form=form, report=report)


@bp.route("/backoffice/catalog/certificates")
@access.staff()
def certificate_items():
    """Staff find an item (by name, code or barcode) to manage its certificates."""
    text = text_arg("q")
    items = []
    if text:
        items = db.session.scalars(
            select(Item)
            .where(Item.search_text.contains(normalise_search_text(text), autoescape=True))
            .order_by(ordered(Item.trade_name), Item.id)
            .limit(50)
        ).all()
    recent = db.session.scalars(
        select(ItemCertificate).order_by(ItemCertificate.uploaded_at.desc()).limit(20)
    ).all()
    return render_template(
        "catalog/certificate_items.html",
        text=text,
        items=items,
        recent=recent,
        certificate_kinds=CERTIFICATE_KIND_LABELS,
        today=catalog.today(),
    )


@bp.route("/backoffice/catalog/items/<int:item_id>/certificates", methods=["GET", "POST"])
@access.staff()
def item_certificates(item_id):
    item = db.get_or_404(Item, item_id)
    form = CertificateForm()
    if form.validate_on_submit():
        try:
            certificate = certs.add_certificate(
                item,
                current_user,
                kind=form.kind.data,
                number=form.number.data,
                issued_by=form.issued_by.data,
                valid_until=form.valid_until.data,
                file_storage=form.file.data,
            )
        except certs.CertificateError as error:
            db.session.rollback()
            getattr(form, error.field or "file").errors.append(error.message)
        else:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                storage.discard(certs.relative_path(certificate.stored_name))
                raise
            flash(_("Document %(number)s added.", number=certificate.number), "success")
            return redirect(url_for("catalog.item_certificates", item_id=item.id))
        finally:
            form.file.data.close()  # large uploads are spooled to a temporary file
    return render_template(
        "catalog/item_certificates.html",
        item=item,
        form=form,
        delete_form=ConfirmForm(),
        certificates=certs.certificates_of(item.id),
        certificate_kinds=CERTIFICATE_KIND_LABELS,
        today=catalog.today(),
    )


@bp.route("/backoffice/catalog/certificates/<int:certificate_id>/file")
@access.staff()
def staff_download_certificate(certificate_id):
    return _send_certificate(db.get_or_404(ItemCertificate, certificate_id))


@bp.route("/backoffice/catalog/certificates/<int:certificate_id>/delete", methods=["POST"])
@access.staff()
def delete_certificate(certificate_id):
    certificate = db.get_or_404(ItemCertificate, certificate_id)
    item_id = certificate.item_id
    form = ConfirmForm()
    if form.validate_on_submit():
        number = certificate.number
        path = certs.remove_certificate(certificate)
        db.session.commit()
        # Only after the commit: a rolled-back removal must still find its file.
        storage.discard(path)
        flash(_("Document %(number)s removed.", number=number), "success")
    return redirect(url_for("catalog.item_certificates", item_id=item_id))


@bp.cli.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print the report only.")
def import_catalog_command(path, dry_run):
    """Create or update catalogue items from an XLSX/CSV file (all rows or none)."""
    with open(path, "rb") as handle:
        data = handle.read()
    # Messages are translated like in the UI (Russian), which needs a request context.
    with current_app.test_request_context():
        _run_import_command(path, data, dry_run)


def _run_import_command(path, data, dry_run):
    try:
        report = importer.import_catalog(path, data, dry_run=dry_run)
    except importer.ImportFileError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    for rejected in report.rejected:
        click.echo(f"line {rejected.line}: {rejected.reason}", err=True)
    if report.rejected or dry_run:
        db.session.rollback()
        if report.rejected:
            raise click.ClickException(f"{len(report.rejected)} rows rejected; nothing imported")
        click.echo(f"Checked: {report.created} to create, {report.updated} to update.")
        return
    db.session.commit()
    search.forget_cached_results()
    click.echo(f"Imported: {report.created} created, {report.updated} updated.")


@bp.cli.command("rebuild-search-words")
def rebuild_search_words_command():
    """Rebuild the typo-search word list from the active items (after bulk SQL changes)."""
    count = search.rebuild_search_words()
    db.session.commit()
    search.forget_cached_results()
    click.echo(f"Search words: {count}.")
