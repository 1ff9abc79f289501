from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from portal import audit, audit_text, errors
from portal.accounts import services as accounts
from portal.accounts import two_factor
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import OfferVersion, StaffRole, User
from portal.audit import AuditEvent
from portal.backoffice import bp
from portal.backoffice.forms import (
    AssignManagerForm,
    AuditFilterForm,
    OfferForm,
    OrganisationCreateForm,
    StaffUserForm,
)
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations import contracts
from portal.organisations import services as organisations
from portal.organisations.forms import (
    EdoIdForm,
    SupplyContractForm,
)
from portal.organisations.models import Membership, Organisation
from portal.request_guard import int_arg, text_arg
from portal.security import access, can_manage_organisation, require_manage_organisation


@bp.route("/organisations")
@access.staff()
def list_organisations():
    query = select(Organisation).order_by(Organisation.legal_name)
    search = text_arg("q")
    if search:
        query = query.where(
            or_(Organisation.legal_name.ilike(f"%{search}%"), Organisation.inn.startswith(search))
        )
    if request.args.get("mine"):
        query = query.where(Organisation.manager_id == current_user.id)
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("backoffice/organisations.html", page=page, search=search)


@bp.route("/organisations/new", methods=["GET", "POST"])
@access.staff()
def create_organisation():
    """The gas-supplier path: the manager creates the customer and hands over a code in person."""
    form = OrganisationCreateForm()
    if form.validate_on_submit():
        try:
            organisation = organisations.create_organisation(
                legal_name=form.legal_name.data,
                inn=form.inn.data,
                kind=form.kind.data,
                kpp=form.kpp.data,
                ogrn=form.ogrn.data,
                legal_address=form.legal_address.data,
                delivery_address=form.delivery_address.data,
                region=form.region.data,
                created_by=current_user,
                manager=current_user,
            )
            membership = organisations.add_member(
                organisation,
                full_name=form.user_full_name.data,
                email=form.user_email.data,
                phone=form.user_phone.data or None,
                login=form.user_login.data,
                powers=organisations.admin_powers(),
                added_by=current_user,
                send_link=False,
            )
            code = accounts.issue_access_code(membership.user, current_user)
        except UserError as error:
            errors.show(error, form, default_field="inn")
        else:
            return render_template(
                "backoffice/access_code.html",
                user=membership.user,
                code=code,
                organisation=organisation,
            )
    return errors.form_page("backoffice/organisation_new.html", form=form)


def _manager_choices():
    staff = db.session.scalars(
        select(User)
        .where(User.staff_role.isnot(None), User.is_active_flag.is_(True))
        .order_by(User.full_name)
    )
    return choices([(0, "—")] + [(user.id, user.full_name) for user in staff])


@bp.route("/organisations/<int:organisation_id>")
@access.staff()
def show_organisation(
    organisation_id, contract_form=None, status=200, edo_form=None, assign_form=None
):
    organisation = db.get_or_404(Organisation, organisation_id)
    assign = assign_form or AssignManagerForm(manager_id=organisation.manager_id or 0)
    assign.manager_id.choices = _manager_choices()
    if contract_form is None:
        contract_form = SupplyContractForm(
            formdata=None,
            data={
                "contract_number": organisation.supply_contract_number,
                "contract_date": organisation.supply_contract_date,
                "deferral_days": organisation.payment_deferral_days,
            },
        )
    page = render_template(
        "backoffice/organisation.html",
        organisation=organisation,
        members=organisations.members(organisation.id),
        confirm=ConfirmForm(),
        assign=assign,
        can_manage=can_manage_organisation(current_user, organisation),
        contract_form=contract_form,
        edo_form=edo_form or EdoIdForm(formdata=None, data={"edo_id": organisation.edo_id}),
        default_deferral=contracts.deferral_days(organisation),
    )
    return page, status


@bp.route("/organisations/<int:organisation_id>/contract", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def edit_supply_contract(organisation_id):
    """The curator (or an admin) changes the supply contract; refused input changes nothing."""
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    form = SupplyContractForm()
    if form.validate_on_submit():
        try:
            contracts.set_supply_contract(
                organisation,
                number=form.contract_number.data,
                contract_date=form.contract_date.data,
                deferral_days=form.deferral_days.data,
            )
        except UserError as error:
            field = {"number": "contract_number", "date": "contract_date"}.get(
                error.field, "deferral_days"
            )
            errors.show(UserError(error.message, field=field), form)
        else:
            flash(_("The supply contract is saved."), "success")
            return redirect(
                url_for("backoffice.show_organisation", organisation_id=organisation.id)
            )
    return show_organisation.__wrapped__(organisation.id, contract_form=form, status=422)


@bp.route("/organisations/<int:organisation_id>/edo", methods=["POST"])
@access.curator(Organisation, "organisation_id")
def edit_edo_id(organisation_id):
    """The curator (or an admin) records the organisation's ЭДО participant identifier."""
    organisation = db.get_or_404(Organisation, organisation_id)
    require_manage_organisation(organisation)
    form = EdoIdForm()
    if form.validate_on_submit():
        before = organisation.edo_id
        organisation.edo_id = (form.edo_id.data or "").strip() or None
        audit.record(
            "organisation.edo_id_changed",
            target=organisation,
            organisation=organisation,
            before=before,
            after=organisation.edo_id,
        )
        flash(_("The ЭДО identifier is saved."), "success")
        return redirect(url_for("backoffice.show_organisation", organisation_id=organisation.id))
    return show_organisation.__wrapped__(organisation.id, status=422, edo_form=form)


@bp.route("/organisations/<int:organisation_id>/manager", methods=["POST"])
@access.staff(StaffRole.ADMIN)
def assign_manager(organisation_id):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = AssignManagerForm()
    form.manager_id.choices = _manager_choices()
    if not form.validate_on_submit():
        return show_organisation.__wrapped__(organisation.id, status=422, assign_form=form)
    before = organisation.manager.full_name if organisation.manager else "—"
    organisation.manager_id = form.manager_id.data or None
    db.session.flush()
    db.session.refresh(organisation, ["manager"])
    after = organisation.manager.full_name if organisation.manager else "—"
    if before != after:
        audit.record(
            "organisation.manager_assigned",
            target=organisation,
            organisation=organisation,
            before={"manager": before},
            after={"manager": after},
        )
    flash(_("Account manager assigned."), "success")
    return redirect(url_for("backoffice.show_organisation", organisation_id=organisation.id))


@bp.route("/members/<int:membership_id>/access-code", methods=["POST"])
@access.curator(Membership, "membership_id")
def issue_access_code(membership_id):
    """The "come to your curator" path: a new one-time code replaces the forgotten password."""
    membership = db.get_or_404(Membership, membership_id)
    require_manage_organisation(membership.organisation)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(
            url_for("backoffice.show_organisation", organisation_id=membership.organisation_id)
        )
    code = accounts.issue_access_code(membership.user, current_user)
    return render_template(
        "backoffice/access_code.html",
        user=membership.user,
        code=code,
        organisation=membership.organisation,
    )


@bp.route("/members/<int:membership_id>/reset-link", methods=["POST"])
@access.curator(Membership, "membership_id")
def send_reset_link(membership_id):
    membership = db.get_or_404(Membership, membership_id)
    require_manage_organisation(membership.organisation)
    if ConfirmForm().validate_on_submit():
        accounts.send_set_password_link(membership.user, template="reset_password")
        audit.record(
            "auth.reset_link_sent_by_staff",
            target=membership.user,
            organisation=membership.organisation,
        )
        flash(
            _("A password reset link has been e-mailed to %(email)s.", email=membership.user.email),
            "success",
        )
    return redirect(
        url_for("backoffice.show_organisation", organisation_id=membership.organisation_id)
    )


@bp.route("/staff", methods=["GET", "POST"])
@access.staff(StaffRole.ADMIN)
def list_staff():
    form = StaffUserForm()
    if form.validate_on_submit():
        if not organisations.login_is_free(form.login.data):
            form.login.errors.append(_("This login is taken."))
        elif organisations.email_owner(form.email.data):
            form.email.errors.append(_("This e-mail is used by another account."))
        else:
            user = User(
                login=form.login.data,
                email=form.email.data,
                full_name=form.full_name.data,
                staff_role=form.role.data,
            )
            db.session.add(user)
            db.session.flush()
            audit.record("staff.created", target=user, role=user.staff_role)
            accounts.send_set_password_link(user)
            flash(_("Staff account created; a set-password link has been e-mailed."), "success")
            return redirect(url_for("backoffice.list_staff"))
    staff = db.session.scalars(
        select(User).where(User.staff_role.isnot(None)).order_by(User.full_name)
    ).all()
    return errors.form_page("backoffice/staff.html", staff=staff, form=form, confirm=ConfirmForm())


@bp.route("/staff/<int:user_id>/toggle", methods=["POST"])
@access.staff(StaffRole.ADMIN)
def toggle_staff(user_id):
    user = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit() and user.staff_role and user.id != current_user.id:
        user.is_active_flag = not user.is_active_flag
        user.rotate_session_token()
        audit.record("staff.activated" if user.is_active_flag else "staff.deactivated", target=user)
    return redirect(url_for("backoffice.list_staff"))


@bp.route("/staff/<int:user_id>/reset-two-factor", methods=["POST"])
@access.staff(StaffRole.ADMIN)
def reset_two_factor(user_id):
    """For an employee who lost the phone: sign-in falls back to the password alone."""
    user = db.get_or_404(User, user_id)
    if not (ConfirmForm().validate_on_submit() and user.staff_role and user.totp_enabled):
        # A button on the staff list: the refusal is flashed there, nothing is changed.
        message = _("Two-factor sign-in is not turned on for %(name)s.", name=user.full_name)
        errors.show(UserError(message))
        return redirect(url_for("backoffice.list_staff"))
    two_factor.disable(user, current_user)
    flash(_("Two-factor sign-in turned off for %(name)s.", name=user.full_name), "success")
    return redirect(url_for("backoffice.list_staff"))


@bp.route("/offers", methods=["GET", "POST"])
@access.staff(StaffRole.ADMIN)
def list_offers():
    form = OfferForm()
    if form.validate_on_submit():
        try:
            accounts.publish_offer(form.version.data, form.title.data, form.text.data, current_user)
        except UserError as error:
            errors.show(error, form, default_field="version")
        else:
            flash(
                _("Published. Customers will be asked to accept it at their next visit."), "success"
            )
            return redirect(url_for("backoffice.list_offers"))
    offers = db.session.scalars(
        select(OfferVersion).order_by(OfferVersion.published_at.desc())
    ).all()
    return errors.form_page("backoffice/offers.html", offers=offers, form=form)


@bp.route("/audit")
@access.staff()
def audit_log():
    """Admins read every entry; a manager the entries of the organisations they curate
    (another organisation's log is 404, as its rows would be)."""
    filters = AuditFilterForm(request.args)
    query = visible_events(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if filters.action.data:
        query = query.where(AuditEvent.action.startswith(filters.action.data.strip()))
    organisation_id = int_arg("organisation_id")
    organisation = None
    if organisation_id is not None:
        organisation = db.get_or_404(Organisation, organisation_id)
        if not current_user.is_admin and organisation.manager_id != current_user.id:
            abort(404)
        query = query.where(AuditEvent.organisation_id == organisation_id)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "backoffice/audit.html",
        page=page,
        filters=filters,
        organisation=organisation,
        entries=audit_text.describe(page.items),
    )


from portal.backoffice import commercial_views  # noqa: E402,F401 - attaches its routes
from portal.backoffice.commercial_views import visible_events  # noqa: E402
