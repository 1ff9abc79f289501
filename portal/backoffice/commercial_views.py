"""«Коммерческие условия» of an organisation, promotions and item editing for staff."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit_text, errors
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import StaffRole
from portal.audit import AuditEvent
from portal.backoffice import bp, commercial
from portal.backoffice.commercial_forms import (
    AddressForm,
    CommercialTermsForm,
    ItemEditForm,
    PromotionForm,
)
from portal.billing.models import VatCategory
from portal.catalog import item_editing
from portal.catalog import promotions as promotion_service
from portal.catalog.models import Category, Item, Promotion, PromotionStatus
from portal.catalog.pricing import today
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations import contracts
from portal.organisations.models import DeliveryAddress, Organisation
from portal.security import access, can_manage_organisation, require_manage_organisation

# A term's message goes on its field; the contract's own names map onto this form's fields.
_FIELDS = {"number": "contract_number", "date": "contract_date"}


def _field_error(form, error, fallback):
    name = _FIELDS.get(error.field, error.field)
    errors.show(
        UserError(error.message, field=name if hasattr(form, name or "") else fallback), form
    )


# --- commercial terms ------------------------------------------------------------------------


def _terms_form(organisation, formdata=None):
    if formdata is None:
        terms = commercial.current_terms(organisation)
        form = CommercialTermsForm(
            formdata=None,
            data={
                "price_list_id": terms.price_list_id or 0,
                "discount_percent": terms.discount_percent,
                "credit_limit": terms.credit_limit,
                "contract_number": terms.contract_number,
                "contract_date": terms.contract_date,
                "deferral_days": terms.deferral_days,
            },
        )
    else:
        form = CommercialTermsForm()
    form.price_list_id.choices = choices(
        [(0, _("Base price list"))]
        + [(p.id, p.name) for p in commercial.price_lists() if not p.is_base]
    )
    return form


def _render_terms(organisation, form, address_form=None, status=200):
    return (
        render_template(
            "backoffice/commercial_terms.html",
            organisation=organisation,
            form=form,
            address_form=address_form or AddressForm(formdata=None),
            address_forms={
                a.id: AddressForm(
                    formdata=None,
                    data={"address": a.address, "region": a.region, "is_default": a.is_default},
                    prefix=f"a{a.id}",
                    meta={"csrf": False},
                )
                for a in organisation.addresses
            },
            confirm=ConfirmForm(),
            can_manage=can_manage_organisation(current_user, organisation),
            default_deferral=contracts.deferral_days(organisation),
        ),
        status,
    )


@bp.route("/organisations/<int:organisation_id>/terms")
@access.staff()
def show_terms(organisation_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    return _render_terms(organisation, _terms_form(organisation))


@bp.route("/organisations/<int:organisation_id>/terms", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def edit_terms(organisation_id):
    """The curator (or an admin) saves every term at once; a refused value changes nothing."""
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    form = _terms_form(organisation, formdata=request.form)
    if form.validate_on_submit():
        try:
            changed = commercial.set_terms(
                organisation,
                price_list_id=form.price_list_id.data or None,
                discount_percent=form.discount_percent.data,
                credit_limit=form.credit_limit.data,
                contract_number=form.contract_number.data,
                contract_date=form.contract_date.data,
                deferral_days=form.deferral_days.data,
            )
        except UserError as error:
            _field_error(form, error, "discount_percent")
        else:
            flash(
                _("The terms are saved; the buyer sees them at once.")
                if changed
                else _("Nothing changed."),
                "success",
            )
            return redirect(url_for("backoffice.show_terms", organisation_id=organisation.id))
    return _render_terms(organisation, form, status=422)


def _address_of(organisation, address_id) -> DeliveryAddress:
    row = db.session.scalar(
        select(DeliveryAddress).where(
            DeliveryAddress.id == address_id, DeliveryAddress.organisation_id == organisation.id
        )
    )
    if row is None:
        abort(404)
    return row


@bp.route("/organisations/<int:organisation_id>/addresses", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def add_address(organisation_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    form = AddressForm()
    if form.validate_on_submit():
        try:
            commercial.add_address(
                organisation,
                address=form.address.data,
                region=form.region.data,
                is_default=form.is_default.data,
            )
        except UserError as error:
            _field_error(form, error, "address")
        else:
            flash(_("The address is added."), "success")
            return redirect(url_for("backoffice.show_terms", organisation_id=organisation.id))
    return _render_terms(organisation, _terms_form(organisation), address_form=form, status=422)


@bp.route("/organisations/<int:organisation_id>/addresses/<int:address_id>", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def edit_address(organisation_id, address_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    row = _address_of(organisation, address_id)
    form = AddressForm(prefix=f"a{row.id}", meta={"csrf": False})  # the page's token below
    if ConfirmForm().validate_on_submit() and form.validate():
        try:
            commercial.edit_address(
                organisation,
                row,
                address=form.address.data,
                region=form.region.data,
                is_default=form.is_default.data,
            )
        except UserError as error:
            errors.show(error, category="danger")
            return _render_terms(organisation, _terms_form(organisation), status=422)
        flash(_("The address is saved."), "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("backoffice.show_terms", organisation_id=organisation.id))


@bp.route(
    "/organisations/<int:organisation_id>/addresses/<int:address_id>/remove", methods=["POST"]
)
@access.curator(Organisation, "organisation_id")
def remove_address(organisation_id, address_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    row = _address_of(organisation, address_id)
    if ConfirmForm().validate_on_submit():
        try:
            commercial.remove_address(organisation, row)
        except UserError as error:
            errors.show(error, category="danger")
            return _render_terms(organisation, _terms_form(organisation), status=422)
        flash(_("The address is removed."), "success")
    return redirect(url_for("backoffice.show_terms", organisation_id=organisation.id))


# --- promotions --------------------------------------------------------------------------------


def _promotion_form(promotion=None, formdata=None):
    if formdata is None and promotion is not None:
        form = PromotionForm(
            formdata=None,
            data={
                "title": promotion.title,
                "target": "item" if promotion.item_id else "category",
                "item_sku": promotion.item.sku if promotion.item else "",
                "category_id": promotion.category_id or 0,
                "kind": "price" if promotion.fixed_price is not None else "percent",
                "discount_percent": promotion.discount_percent,
                "fixed_price": promotion.fixed_price,
                "starts_on": promotion.starts_on,
                "ends_on": promotion.ends_on,
            },
        )
    elif formdata is None:
        form = PromotionForm(formdata=None, data={"starts_on": today()})
    else:
        form = PromotionForm()
    categories = db.session.scalars(select(Category).order_by(Category.name)).all()
    form.category_id.choices = choices([(0, "—")] + [(c.id, c.name) for c in categories])
    return form


def _promotion_values(form) -> dict:
    return {
        "title": form.title.data,
        "target": form.target.data,
        "item_sku": form.item_sku.data,
        "category_id": form.category_id.data or None,
        "kind": form.kind.data,
        "discount_percent": form.discount_percent.data,
        "fixed_price": form.fixed_price.data,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
    }


def _render_promotions(form, status=200, editing=None):
    wanted = request.args.get("status") or None
    return (
        render_template(
            "backoffice/promotions.html",
            promotions=promotion_service.all_promotions(wanted),
            statuses=list(PromotionStatus),
            wanted=wanted,
            today=today(),
            form=form,
            editing=editing,
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.route("/promotions")
@access.staff()
def list_promotions():
    return _render_promotions(_promotion_form())


@bp.route("/promotions", methods=["POST"])
@access.staff()
def create_promotion():
    form = _promotion_form(formdata=request.form)
    if form.validate_on_submit():
        try:
            promotion_service.create_promotion(_promotion_values(form))
        except UserError as error:
            _field_error(form, error, "title")
        else:
            flash(_("The promotion is saved; buyers see it at once."), "success")
            return redirect(url_for("backoffice.list_promotions"))
    return _render_promotions(form, status=422)


@bp.route("/promotions/<int:promotion_id>", methods=["GET", "POST"])
@access.staff()
def edit_promotion(promotion_id):
    promotion = db.get_or_404(Promotion, promotion_id)
    if request.method == "GET":
        return _render_promotions(_promotion_form(promotion), editing=promotion)
    form = _promotion_form(promotion, formdata=request.form)
    if form.validate_on_submit():
        try:
            promotion_service.edit_promotion(promotion, _promotion_values(form))
        except UserError as error:
            _field_error(form, error, "title")
        else:
            flash(_("The promotion is saved; buyers see it at once."), "success")
            return redirect(url_for("backoffice.list_promotions"))
    return _render_promotions(form, status=422, editing=promotion)


@bp.route("/promotions/<int:promotion_id>/end", methods=["POST"])
@access.staff()
def end_promotion(promotion_id):
    promotion = db.get_or_404(Promotion, promotion_id)
    if ConfirmForm().validate_on_submit():
        promotion_service.end_promotion(promotion)
        flash(_("The promotion has ended; prices are back to normal."), "success")
    return redirect(url_for("backoffice.list_promotions"))


# --- items ------------------------------------------------------------------------------------


def _item_form(item, formdata=None):
    if formdata is None:
        form = ItemEditForm(
            formdata=None,
            data={
                "vat_category": item.vat_category,
                "min_quantity": item.min_quantity,
                "order_multiple": item.order_multiple,
                "is_rx": item.is_rx,
                "is_vital": item.is_vital,
                "is_cold_chain": item.is_cold_chain,
                "description": item.description or "",
            },
        )
    else:
        form = ItemEditForm()
    form.vat_category.choices = choices((c.value, c.label) for c in VatCategory)
    return form


@bp.route("/catalog/items")
@access.staff()
def list_items():
    search = (request.args.get("q") or "").strip()[:100]
    query = select(Item).order_by(Item.sku)
    if search:
        query = query.where(Item.sku.ilike(f"{search}%") | Item.trade_name.ilike(f"%{search}%"))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("backoffice/items.html", page=page, search=search)


@bp.route("/catalog/items/<int:item_id>", methods=["GET", "POST"])
@access.staff()
def edit_item(item_id):
    item = db.get_or_404(Item, item_id)
    status = 200
    if request.method == "POST":
        form = _item_form(item, formdata=request.form)
        if form.validate_on_submit():
            try:
                changed = item_editing.edit_item(
                    item,
                    {
                        "vat_category": form.vat_category.data,
                        "min_quantity": form.min_quantity.data,
                        "order_multiple": form.order_multiple.data,
                        "is_rx": form.is_rx.data,
                        "is_vital": form.is_vital.data,
                        "is_cold_chain": form.is_cold_chain.data,
                        "description": form.description.data,
                    },
                )
            except UserError as error:
                _field_error(form, error, "description")
            else:
                flash(_("The item is saved.") if changed else _("Nothing changed."), "success")
                return redirect(url_for("backoffice.edit_item", item_id=item.id))
        status = 422
    else:
        form = _item_form(item)
    history = audit_text.describe(item_editing.history(item))
    return render_template("backoffice/item.html", item=item, form=form, history=history), status


# --- the audit log of the organisations a manager curates --------------------------------------


def visible_events(query):
    """Admins see every entry; a manager those of the organisations they curate."""
    if current_user.staff_role == StaffRole.ADMIN:
        return query
    curated = select(Organisation.id).where(Organisation.manager_id == current_user.id)
    return query.where(AuditEvent.organisation_id.in_(curated))
