from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.forms import ConfirmForm
from portal.accounts.services import AccountError
from portal.clock import local_today
from portal.extensions import db, limiter
from portal.onboarding import bp, services
from portal.onboarding.forms import (
    STATUS_LABELS,
    ApplicationForm,
    ApproveForm,
    InfoRequestForm,
    QueueFilterForm,
    RejectForm,
    ReplyForm,
)
from portal.onboarding.models import Application
from portal.organisations.forms import KIND_LABELS
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
        except services.ApplicationError as error:
            db.session.rollback()
            getattr(form, error.field, form.inn).errors.append(str(error))
            if error.field == "consent":
                form.consent.data = False  # a newer text: to be read and ticked again
        else:
            db.session.commit()
            session["submitted_application"] = application.reference
            return redirect(url_for("onboarding.application_submitted"))
    consent = consents.current_version(ConsentPurpose.APPLICATION)
    form.consent_version.data = consent.number if consent else ""
    return render_template("onboarding/apply.html", form=form, consent=consent)


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
        return _reply_link_expired(token, expired.application), 410
    except services.ApplicationError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 400
    form = ReplyForm()
    if form.validate_on_submit():
        services.reply_to_question(application, form.answer.data)
        db.session.commit()
        flash(_("Thank you, your answer has been sent to the manager."), "success")
        return redirect(url_for("onboarding.application_submitted"))
    return render_template("onboarding/reply.html", form=form, application=application)


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
        if ConfirmForm().validate_on_submit():
            services.resend_reply_link(expired.application)
            db.session.commit()
            flash(
                _("We have sent a new link to the e-mail address given in the application."),
                "success",
            )
            return redirect(url_for("onboarding.application_submitted"))
        return _reply_link_expired(token, expired.application), 400
    except services.ApplicationError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 400
    return redirect(url_for("onboarding.reply", token=token))  # still valid: answer it


# --- staff ---------------------------------------------------------------------------------


@bp.route("/backoffice/applications")
@access.staff()
def list_applications():
    filters = QueueFilterForm(request.args)
    query = services.application_queue(filters.status.data, filters.region.data, filters.kind.data)
    page = db.paginate(query, per_page=25, error_out=False)
    return render_template(
        "onboarding/queue.html",
        page=page,
        filters=filters,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
    )


@bp.route("/backoffice/applications/<int:application_id>")
@access.staff()
def show_application(application_id):
    application = db.get_or_404(Application, application_id)
    approve = ApproveForm(
        data={
            "legal_name": application.organisation_name,
            "kind": application.kind,
            "ogrn": application.ogrn,
            "region": application.region,
        }
    )
    return render_template(
        "onboarding/application.html",
        application=application,
        today=local_today(),
        approve=approve,
        reject=RejectForm(),
        info=InfoRequestForm(),
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
    )


def _decide(application_id, form_class, action):
    application = db.get_or_404(Application, application_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            action(application, form)
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            return redirect(url_for("onboarding.show_application", application_id=application.id))
    forms = {
        "approve": ApproveForm(
            formdata=None,
            data={
                "legal_name": application.organisation_name,
                "kind": application.kind,
                "ogrn": application.ogrn,
                "region": application.region,
            },
        ),
        "reject": RejectForm(formdata=None),
        "info": InfoRequestForm(formdata=None),
    }
    forms[{ApproveForm: "approve", RejectForm: "reject", InfoRequestForm: "info"}[form_class]] = (
        form
    )
    return render_template(
        "onboarding/application.html",
        application=application,
        today=local_today(),
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        **forms,
    ), 400


@bp.route("/backoffice/applications/<int:application_id>/approve", methods=["POST"])
@access.staff()
def approve_application(application_id):
    def action(application, form):
        services.approve_application(
            application, form.requisites(), form.admin_login.data, current_user, form.contract()
        )
        flash(
            _(
                "Approved. The organisation is created and the applicant has been e-mailed a "
                "link to set a password."
            ),
            "success",
        )

    return _decide(application_id, ApproveForm, action)


@bp.route("/backoffice/applications/<int:application_id>/reject", methods=["POST"])
@access.staff()
def reject_application(application_id):
    def action(application, form):
        services.reject_application(application, form.reason.data, current_user)
        flash(_("The application is rejected and the applicant informed."), "success")

    return _decide(application_id, RejectForm, action)


@bp.route("/backoffice/applications/<int:application_id>/ask", methods=["POST"])
@access.staff()
def request_information(application_id):
    def action(application, form):
        services.request_information(application, form.question.data, current_user)
        flash(_("The question has been e-mailed to the applicant."), "success")

    return _decide(application_id, InfoRequestForm, action)
