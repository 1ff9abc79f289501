from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.database import utcnow
from portal.errors import UserError
from portal.organisations import bp, services
from portal.organisations.forms import MemberForm, PowersForm
from portal.organisations.models import Membership, Power
from portal.security import access, current_organisation, get_scoped_or_404, safe_next_url


@bp.route("/")
@access.customer
def details():
    return render_template("organisations/details.html", organisation=current_organisation())


@bp.route("/switch", methods=["POST"])
@access.customer
def switch():
    form = ConfirmForm()
    wanted = request.form.get("organisation_id", type=int)
    if wanted is None:
        raise UserError(_("Choose the organisation to work for."))
    if form.validate_on_submit():
        if not any(m.organisation_id == wanted for m in current_user.active_memberships):
            abort(404)
        session["organisation_id"] = wanted
    return redirect(safe_next_url(request.form.get("next"), url_for("dashboard.index")))


@bp.route("/users")
@access.power(Power.MANAGE_USERS)
def list_members():
    organisation = current_organisation()
    return render_template(
        "organisations/members.html",
        members=services.members(organisation.id),
        invitations=services.pending_invitations(organisation.id),
        now=utcnow(),
        confirm=ConfirmForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@access.power(Power.MANAGE_USERS)
def add_member():
    form = MemberForm()
    if request.method == "GET":
        form.powers.data = [Power.VIEW_PRICES.value]
    if form.validate_on_submit():
        try:
            services.invite_member(
                current_organisation(),
                full_name=form.full_name.data,
                email=form.email.data,
                phone=form.phone.data or None,
                login=form.login.data or None,
                powers=form.powers.data,
                invited_by=current_user,
            )
        except UserError as error:
            errors.show(error, form, default_field="email")
        else:
            # The same answer whoever the address belongs to (nobody, a customer, staff).
            flash(
                _(
                    "An invitation has been sent to %(email)s. The colleague appears among "
                    "the users once they have accepted it.",
                    email=form.email.data.strip().lower(),
                ),
                "success",
            )
            return redirect(url_for("organisations.list_members"))
    return errors.form_page("organisations/member_form.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@access.authenticated
def show_invitation(token):
    """The invited person, signed in, accepts or declines; nobody else can open it (404)."""
    invitation = services.invitation_for(token, current_user)
    if invitation is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            if request.form.get("answer") == "accept":
                membership = services.accept_invitation(invitation, current_user)
            else:
                services.decline_invitation(invitation, current_user)
                membership = None
        except UserError as error:
            errors.show(error, category="danger")
        else:
            if membership is None:
                flash(_("You have declined the invitation."), "info")
                return redirect(url_for("dashboard.index"))
            session["organisation_id"] = membership.organisation_id
            flash(
                _(
                    "You are now a member of %(organisation)s.",
                    organisation=membership.organisation.legal_name,
                ),
                "success",
            )
            return redirect(url_for("dashboard.index"))
    return errors.form_page(
        "organisations/invitation.html",
        invitation=invitation,
        form=form,
        expired=invitation.expires_at <= utcnow(),
    )


@bp.route("/users/<int:membership_id>", methods=["GET", "POST"])
@access.power(Power.MANAGE_USERS)
def edit_member(membership_id):
    membership = get_scoped_or_404(Membership, membership_id)
    form = PowersForm(obj=None)
    if request.method == "GET":
        form.powers.data = sorted(p.value for p in membership.powers)
    if form.validate_on_submit():
        try:
            services.update_powers(membership, form.powers.data, current_user)
        except UserError as error:
            errors.show(error, form, default_field="powers")
        else:
            flash(_("Powers saved."), "success")
            return redirect(url_for("organisations.list_members"))
    return errors.form_page(
        "organisations/member_edit.html", form=form, membership=membership, confirm=ConfirmForm()
    )


@bp.route("/users/<int:membership_id>/block", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def toggle_block(membership_id):
    membership = get_scoped_or_404(Membership, membership_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.set_blocked(membership, not membership.is_blocked, current_user)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            flash(
                _("Access blocked.") if membership.is_blocked else _("Access restored."), "success"
            )
    return redirect(url_for("organisations.list_members"))
