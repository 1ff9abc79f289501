from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import errors, transactions
from portal.errors import UserError
from portal.extensions import db
from portal.privacy import bp, consents
from portal.privacy.forms import PortalConsentForm, PromotionsConsentForm, WithdrawForm
from portal.privacy.models import ConsentPurpose, ConsentVersion
from portal.security import access, safe_next_url


def _purpose_or_404(value) -> ConsentPurpose:
    try:
        return ConsentPurpose(value)
    except ValueError:
        abort(404)


def _version_or_404(purpose: ConsentPurpose) -> ConsentVersion:
    """The version the link names (?version=N), else the current one."""
    number = request.args.get("version", type=int)
    if number is None:
        version = consents.current_version(purpose)
    else:
        version = db.session.scalar(
            select(ConsentVersion).where(
                ConsentVersion.purpose == str(purpose), ConsentVersion.number == number
            )
        )
    if version is None:
        abort(404)
    return version


# --- public texts ------------------------------------------------------------------------


@bp.route("/privacy/policy")
@access.public
def show_policy():
    version = _version_or_404(ConsentPurpose.POLICY)
    return render_template(
        "privacy/document.html",
        version=version,
        purpose=ConsentPurpose.POLICY,
        versions=consents.versions_of(ConsentPurpose.POLICY),
    )


@bp.route("/privacy/consents/<purpose>")
@access.public
def show_text(purpose):
    purpose = _purpose_or_404(purpose)
    if not purpose.is_consent:
        return redirect(url_for("privacy.show_policy"))
    version = _version_or_404(purpose)
    return render_template(
        "privacy/document.html",
        version=version,
        purpose=purpose,
        versions=consents.versions_of(purpose),
    )


# --- the consent asked at sign-in ----------------------------------------------------------


@bp.route("/privacy/consent", methods=["GET", "POST"])
@access.authenticated
def accept_portal_consent():
    """Asked after the offer on first sign-in and again for each new version."""
    target = safe_next_url(request.args.get("next"), url_for("dashboard.index"))
    if not consents.needs_portal_consent(current_user):
        if request.method == "POST":
            transactions.refuse()  # nothing to accept
        return redirect(target)
    version = consents.current_version(ConsentPurpose.PORTAL)
    promotions = None
    if not consents.has_consent(current_user, ConsentPurpose.PROMOTIONS):
        promotions = consents.current_version(ConsentPurpose.PROMOTIONS)
    form = PortalConsentForm()
    status = 200
    if form.validate_on_submit():
        try:
            consents.accept(
                consents.require_current(ConsentPurpose.PORTAL, form.version.data),
                user=current_user,
            )
            if promotions is not None and form.promotions.data:
                consents.accept(
                    consents.require_current(
                        ConsentPurpose.PROMOTIONS, form.promotions_version.data
                    ),
                    user=current_user,
                )
        except UserError as error:
            errors.show(error, category="warning")
            # A newer text than the one read: show it, never accept the old one silently.
            return redirect(url_for("privacy.accept_portal_consent", next=request.args.get("next")))
        return redirect(target)
    if request.method == "POST":
        status = 422
    form.version.data = version.number
    if promotions is not None:
        form.promotions_version.data = promotions.number
    return render_template(
        "privacy/accept.html", form=form, version=version, promotions=promotions
    ), status


# --- the person's own consents -------------------------------------------------------------


def promotions_opt_in() -> dict:
    """The promotions opt-in for a page (profile, my consents): empty if already given."""
    promotions = None
    form = None
    if not consents.has_consent(current_user, ConsentPurpose.PROMOTIONS):
        promotions = consents.current_version(ConsentPurpose.PROMOTIONS)
        if promotions is not None:
            form = PromotionsConsentForm(formdata=None, data={"version": promotions.number})
    return {"promotions": promotions, "promotions_form": form}


@bp.route("/privacy/my-consents")
@access.authenticated
def my_consents():
    return render_template(
        "privacy/my_consents.html",
        acceptances=consents.acceptances_of(current_user),
        **promotions_opt_in(),
    )


@bp.route("/privacy/my-consents/promotions", methods=["POST"])
@access.authenticated
def give_promotions_consent():
    form = PromotionsConsentForm()
    back = safe_next_url(request.args.get("next"), url_for("privacy.my_consents"))
    if not form.validate_on_submit():
        # The opt-in sits on the profile and on my consents: refused on the page it came from.
        errors.show(UserError(_("Tick the box to give the consent.")), category="warning")
        return redirect(back)
    if consents.has_consent(current_user, ConsentPurpose.PROMOTIONS):
        return redirect(back)
    try:
        version = consents.require_current(ConsentPurpose.PROMOTIONS, form.version.data)
    except UserError as error:
        errors.show(error, category="warning")
        return redirect(back)
    consents.accept(version, user=current_user)
    flash(_("You are subscribed to promotions and news."), "success")
    return redirect(back)


@bp.route("/privacy/my-consents/<int:acceptance_id>/withdraw", methods=["GET", "POST"])
@access.authenticated
def withdraw_consent(acceptance_id):
    acceptance = consents.acceptance_of(current_user, acceptance_id)
    if acceptance is None:
        abort(404)
    if not acceptance.is_active:
        flash(_("This consent has already been withdrawn."), "info")
        return redirect(url_for("privacy.my_consents"))
    blocks_account = acceptance.purpose_enum is ConsentPurpose.PORTAL
    form = WithdrawForm()
    status = 200
    if form.validate_on_submit():
        if blocks_account and not form.understood.data:
            form.understood.errors.append(_("Tick the box to confirm."))
            status = 422
        else:
            consents.withdraw(acceptance, current_user)
            if blocks_account:
                return _signed_out_after_withdrawal()
            flash(_("The consent is withdrawn."), "success")
            return redirect(url_for("privacy.my_consents"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "privacy/withdraw.html", form=form, acceptance=acceptance, blocks_account=blocks_account
    ), status


def _signed_out_after_withdrawal():
    # The account is blocked already (its session token changed); this ends this browser's
    # session and remember-me cookie the way signing out does.
    from portal.accounts.views import _signed_out

    response = _signed_out(redirect(url_for("accounts.login")))
    flash(
        _(
            "Your consent is withdrawn and your account is blocked. To use the portal again, "
            "contact your account manager."
        ),
        "info",
    )
    return response


from portal.privacy import staff_views  # noqa: E402, F401 - the staff side, same blueprint
