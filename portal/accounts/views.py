import functools

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, with_expression

from portal import audit, errors, transactions
from portal.accounts import bp, services, session_cache, two_factor
from portal.accounts.forms import (
    AcceptOfferForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    SetPasswordForm,
    TwoFactorCodeForm,
)
from portal.accounts.models import User, normalise_email
from portal.api.problems import is_api_request
from portal.errors import UserError
from portal.extensions import db, limiter, login_manager
from portal.notifications.services import unread_count_of
from portal.organisations.services import accept_invitations_of_new_account
from portal.outages import DATABASE_UNREACHABLE, note_database_unavailable
from portal.security import access, safe_next_url

login_manager.login_view = "accounts.login"
login_manager.login_message = None
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    if is_api_request():
        return None  # cookies (session or "remember me") never authenticate /api
    ident, _sep, token = user_id.partition(":")
    if not ident.isdigit():
        return None

    def read_from_database():
        return (
            db.session.execute(_user_statement(), {"user_id": int(ident)})
            .unique()
            .scalar_one_or_none()
        )

    try:
        # The shared cache's copy while nothing of it changed (session_cache), else one query.
        user = session_cache.load(int(ident), read_from_database)
    except DATABASE_UNREACHABLE as error:
        # Fail softly: anonymous for this request (so nothing asks again), and the gate before
        # every view answers the 503 page (portal/security.py).
        note_database_unavailable(error)
        return None
    if user is None or not token or not session_cache.token_matches(user, token):
        return None
    if not user.is_active:
        return None
    return user


@functools.cache
def _user_statement():
    """One query for the user, their memberships and organisations and the unread notices
    under the bell. It runs on every request, so it is built once per process."""
    return (
        select(User)
        .where(User.id == bindparam("user_id"))
        .options(
            joinedload(User.memberships),
            with_expression(User.unread_notifications, unread_count_of(User.id)),
        )
    )


def _login_rate_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@access.public
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data, request.remote_addr)
        except UserError as refusal:
            transactions.keep_on_refusal()  # the failed attempt: throttling and audit use it
            errors.show(refusal, form, default_field="password")
        else:
            _fresh_session()
            target = safe_next_url(request.args.get("next"), url_for("dashboard.index"))
            if user.totp_enabled:
                session[PENDING_2FA] = {
                    "user": user.id,
                    "remember": form.remember.data,
                    "next": target,
                }
                return redirect(url_for("accounts.login_second_factor"))
            login_user(user, remember=form.remember.data)
            return redirect(target)
    return errors.form_page("accounts/login.html", form=form)


PENDING_2FA = "pending_second_factor"


def _fresh_session():
    """A new session on every sign-in: nothing an attacker planted before is carried over."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


@bp.route("/login/code", methods=["GET", "POST"])
@access.public
@limiter.limit(_login_rate_limit, methods=["POST"])
def login_second_factor():
    pending = session.get(PENDING_2FA)
    user = db.session.get(User, pending["user"]) if pending else None
    if user is None or not user.totp_enabled or not user.is_active:
        transactions.refuse()  # no sign-in waits for a code: back to the password
        return redirect(url_for("accounts.login"))
    # The wrong-code counter lives in the database: an old copy of this session's cookie
    # does not reset it.
    if two_factor.is_paused(user):
        return _too_many_wrong_codes(user)
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        if two_factor.verify(user, form.code.data):
            audit.record("auth.login_2fa", actor=user, target=user)
            _fresh_session()
            login_user(user, remember=pending["remember"])
            return redirect(safe_next_url(pending["next"], url_for("dashboard.index")))
        transactions.keep_on_refusal()  # the failure: the counter and the audit
        if two_factor.is_paused(user):
            audit.record("auth.2fa_paused", actor=None, target=user)
            transactions.refuse()
            return _too_many_wrong_codes(user)
        form.code.errors.append(_("Wrong or already used code."))
        transactions.refuse()
    return errors.form_page("accounts/login_code.html", form=form)


def _too_many_wrong_codes(user):
    session.pop(PENDING_2FA, None)
    flash(
        _(
            "Too many wrong codes. Sign-in with a code is paused for %(minutes)s minutes.",
            minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        ),
        "danger",
    )
    return redirect(url_for("accounts.login"))


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@access.staff()
def two_factor_settings():
    form = TwoFactorCodeForm()
    if current_user.totp_enabled:
        if form.validate_on_submit():
            if two_factor.verify(current_user, form.code.data):
                two_factor.disable(current_user, current_user)
                flash(_("Two-factor sign-in is off."), "info")
                return redirect(url_for("accounts.profile"))
            transactions.keep_on_refusal()  # the failure: the counter and the audit
            form.code.errors.append(_("Wrong or already used code."))
            transactions.refuse()
        return errors.form_page("accounts/two_factor.html", form=form, enabled=True)
    secret = session.get("totp_setup_secret") or two_factor.new_secret()
    session["totp_setup_secret"] = secret
    if form.validate_on_submit():
        try:
            two_factor.enable(current_user, secret, form.code.data)
        except UserError as error:
            errors.show(error, form, default_field="code")
        else:
            session.pop("totp_setup_secret", None)
            flash(
                _("Two-factor sign-in is on. You will be asked for a code at every sign-in."),
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return errors.form_page(
        "accounts/two_factor.html",
        form=form,
        enabled=False,
        secret=secret,
        qr=two_factor.provisioning_qr(current_user, secret),
    )


@bp.route("/logout", methods=["POST"])
@access.authenticated
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        # A copied session or remember-me cookie must not outlive the logout: the session
        # token they carry is replaced, which ends every session of this user.
        services.log_out(current_user)
        return _signed_out(redirect(url_for("accounts.login")))
    return redirect(url_for("accounts.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@access.authenticated
def logout_everywhere():
    form = ConfirmForm()
    if form.validate_on_submit():
        services.log_out_everywhere(current_user)
        response = _signed_out(redirect(url_for("accounts.login")))
        flash(_("You have been signed out on every device."), "info")
        return response
    return redirect(url_for("accounts.login"))


def _signed_out(response):
    """End this browser's session and delete its remember-me cookie (session.clear() would
    also drop Flask-Login's note to delete it, so the cookie is deleted here)."""
    logout_user()
    _fresh_session()
    config = current_app.config
    response.delete_cookie(
        config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        domain=config.get("REMEMBER_COOKIE_DOMAIN"),
        path=config.get("REMEMBER_COOKIE_PATH", "/"),
        secure=config.get("REMEMBER_COOKIE_SECURE", False),
        httponly=True,
        samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
    )
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@access.public
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.identifier.data)
        # The same answer whether or not the account exists.
        flash(
            _(
                "If an account with these details exists, we have sent a link to its e-mail. "
                "The link is valid for %(hours)s hours.",
                hours=current_app.config["PASSWORD_TOKEN_MAX_AGE"] // 3600,
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return errors.form_page("accounts/forgot_password.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
@access.public
def set_password(token):
    try:
        user = services.user_for_password_token(token)
    except UserError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password_with_token(token, form.password.data)
        # The link went to this mailbox: a colleague invited with a new account accepts so.
        accept_invitations_of_new_account(user)
        flash(
            _("Your password is set. Sign in with your login %(login)s.", login=user.login),
            "success",
        )
        return redirect(url_for("accounts.login"))
    return errors.form_page("accounts/set_password.html", form=form, user=user)


@bp.route("/password/change", methods=["GET", "POST"])
@access.authenticated
def change_password():
    form = ChangePasswordForm()
    if request.method == "POST" and not current_user.must_change_password and not form.current.data:
        form.validate()
        form.current.errors = [_("Enter your current password.")]
    elif form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except UserError as error:
            errors.show(error, form, default_field="current")
        else:
            # The session token changed: renew this session only.
            login_user(current_user._get_current_object())
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(safe_next_url(request.args.get("next"), url_for("dashboard.index")))
    return errors.form_page("accounts/change_password.html", form=form)


@bp.route("/offer", methods=["GET", "POST"])
@access.authenticated
def accept_offer():
    offer = services.current_offer()
    if offer is None or not services.needs_offer_acceptance(current_user):
        transactions.refuse()  # nothing to accept
        return redirect(url_for("dashboard.index"))
    form = AcceptOfferForm()
    if form.validate_on_submit():
        services.accept_offer(current_user, offer, request.remote_addr)
        return redirect(safe_next_url(request.args.get("next"), url_for("dashboard.index")))
    return errors.form_page("accounts/accept_offer.html", form=form, offer=offer)


@bp.route("/profile", methods=["GET", "POST"])
@access.authenticated
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(User.id).where(
                func.lower(User.email) == normalise_email(form.email.data),
                User.id != current_user.id,
            )
        )
        if taken:
            form.email.errors.append(_("This e-mail is used by another account."))
        else:
            form.populate_obj(current_user)
            audit.record("account.profile_updated", target=current_user)
            flash(_("Profile saved."), "success")
            return redirect(url_for("accounts.profile"))
    from portal.privacy.views import promotions_opt_in

    return errors.form_page(
        "accounts/profile.html", form=form, confirm=ConfirmForm(), **promotions_opt_in()
    )


@bp.route("/language/<code>", methods=["POST"])
@access.public
def set_language(code):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        session["language"] = code
        if current_user.is_authenticated:
            current_user.language = code
    return redirect(safe_next_url(request.form.get("next"), url_for("dashboard.index")))
