from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.errors import UserError
from portal.extensions import limiter
from portal.onboarding import bp, services
from portal.onboarding.forms import ApplicationForm, ReplyForm
from portal.privacy import consents
from portal.privacy.models import ConsentPurpose
from portal.security import access


def _application_rate_limit():
    return current_app.config["RATELIMIT_APPLICATION_FORM"]


@bp.route("/apply", methods=["GET", "POST"])
@access.public
@limiter.limit(_application_rate_limit, methods=["POST"])
def apply():
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            application = services.submit_application(
                form.application_data(),
                request.remote_addr,
                str(get_locale() or "ru"),
                consent_version=form.consent_version.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="inn")
            if error.field == "consent":
                form.consent.data = False  # a newer text: to be read and ticked again
        else:
            session["submitted_application"] = application.reference
            return redirect(url_for("onboarding.application_submitted"))
    consent = consents.current_version(ConsentPurpose.APPLICATION)
    form.consent_version.data = consent.number if consent else ""
    return errors.form_page("onboarding/apply.html", form=form, consent=consent)


@bp.route("/apply/done")
@access.public
def application_submitted():
    return render_template(
        "onboarding/submitted.html", reference=session.get("submitted_application")
    )


@bp.route("/apply/reply/<token>", methods=["GET", "POST"])
@access.public
def reply(token):
    try:
        application = services.application_for_reply(token)
    except services.ReplyLinkExpired as expired:
        return _reply_link_expired(token, expired.details["application"]), 410
    except UserError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 400
    form = ReplyForm()
    if form.validate_on_submit():
        services.reply_to_question(application, form.answer.data)
        flash(_("Thank you, your answer has been sent to the manager."), "success")
        return redirect(url_for("onboarding.application_submitted"))
    return errors.form_page("onboarding/reply.html", form=form, application=application)


def _reply_link_expired(token, application):
    return render_template(
        "onboarding/reply_expired.html",
        application=application,
        token=token,
        days=current_app.config["APPLICATION_REPLY_MAX_AGE"] // 86400,
        form=ConfirmForm(),
    )


@bp.route("/apply/reply/<token>/renew", methods=["POST"])
@access.public
@limiter.limit("5 per hour")
def renew_reply_link(token):
    """An expired link's owner asks for a fresh one; it goes to the application's e-mail."""
    try:
        services.application_for_reply(token)
    except services.ReplyLinkExpired as expired:
        application = expired.details["application"]
        if ConfirmForm().validate_on_submit():
            services.resend_reply_link(application)
            flash(
                _("We have sent a new link to the e-mail address given in the application."),
                "success",
            )
            return redirect(url_for("onboarding.application_submitted"))
        return _reply_link_expired(token, application), 400
    except UserError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 400
    return redirect(url_for("onboarding.reply", token=token))  # still valid: answer it


from portal.onboarding import staff_views  # noqa: E402, F401 - the staff side, same blueprint
