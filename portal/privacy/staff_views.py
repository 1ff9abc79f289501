"""Consents, the staff side (/backoffice/privacy/): publishing new versions of the texts."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors
from portal.accounts.models import StaffRole
from portal.errors import UserError
from portal.privacy import bp, consents
from portal.privacy.forms import PublishVersionForm
from portal.privacy.models import ConsentPurpose
from portal.security import access

# --- staff: publishing versions ------------------------------------------------------------


@bp.route("/backoffice/privacy", methods=["GET", "POST"])
@access.staff(StaffRole.ADMIN)
def list_versions():
    form = PublishVersionForm()
    status = 200
    if form.validate_on_submit():
        try:
            version = consents.publish_version(
                form.purpose.data, form.title.data, form.text.data, current_user
            )
        except UserError as error:
            errors.show(error, form, default_field="text")
            status = 422
        else:
            if version.purpose_enum in consents.REQUIRED_PURPOSES:
                message = _(
                    "Version %(number)s is published. Customers will be asked to accept it "
                    "at their next visit.",
                    number=version.number,
                )
            else:
                message = _("Version %(number)s is published.", number=version.number)
            flash(message, "success")
            return redirect(url_for("privacy.list_versions"))
    elif request.method == "POST":
        status = 422
    documents = [(purpose, consents.versions_of(purpose)) for purpose in ConsentPurpose]
    return render_template("privacy/staff_versions.html", form=form, documents=documents), status
