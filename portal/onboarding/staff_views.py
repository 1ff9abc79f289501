"""Applications, the staff side (/backoffice/onboarding/): the queue and the decisions."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock, errors
from portal.errors import UserError
from portal.extensions import db
from portal.onboarding import bp, services
from portal.onboarding.forms import (
    ApproveForm,
    InfoRequestForm,
    QueueFilterForm,
    RejectForm,
)
from portal.onboarding.models import Application
from portal.security import access

# --- staff ---------------------------------------------------------------------------------


@bp.route("/backoffice/onboarding/applications")
@access.staff()
def list_applications():
    filters = QueueFilterForm(request.args)
    query = services.application_queue(filters.status.data, filters.region.data, filters.kind.data)
    page = db.paginate(query, per_page=25, error_out=False)
    return render_template(
        "onboarding/queue.html",
        page=page,
        filters=filters,
    )


@bp.route("/backoffice/onboarding/applications/<int:application_id>")
@access.staff()
def show_application(application_id):
    return _application_page(db.get_or_404(Application, application_id))


def _application_page(application, status=200, **forms):
    """The application with its three decision forms; `forms` replaces the one just posted."""
    blank = {
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
    return render_template(
        "onboarding/application.html",
        application=application,
        today=clock.local_today(),
        **{**blank, **forms},
    ), status


FORM_NAMES = {ApproveForm: "approve", RejectForm: "reject", InfoRequestForm: "info"}


def _decide(application_id, form_class, action):
    application = db.get_or_404(Application, application_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            action(application, form)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            return redirect(url_for("onboarding.show_application", application_id=application.id))
    return _application_page(application, 422, **{FORM_NAMES[form_class]: form})


@bp.route("/backoffice/onboarding/applications/<int:application_id>/approve", methods=["POST"])
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


@bp.route("/backoffice/onboarding/applications/<int:application_id>/reject", methods=["POST"])
@access.staff()
def reject_application(application_id):
    def action(application, form):
        services.reject_application(application, form.reason.data, current_user)
        flash(_("The application is rejected and the applicant informed."), "success")

    return _decide(application_id, RejectForm, action)


@bp.route("/backoffice/onboarding/applications/<int:application_id>/ask", methods=["POST"])
@access.staff()
def request_information(application_id):
    def action(application, form):
        services.request_information(application, form.question.data, current_user)
        flash(_("The question has been e-mailed to the applicant."), "success")

    return _decide(application_id, InfoRequestForm, action)


@bp.route("/backoffice/applications", defaults={"application_id": None})
@bp.route("/backoffice/applications/<int:application_id>")
@access.staff()
def old_application_address(application_id):
    """The addresses before the staff side moved under /backoffice/onboarding/ (the links in
    notices already sent point there): a permanent redirect."""
    if application_id is None:
        return redirect(url_for("onboarding.list_applications"), 301)
    return redirect(url_for("onboarding.show_application", application_id=application_id), 301)
