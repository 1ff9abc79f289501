from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.documents import bp, services, storage
from portal.documents.forms import (
    DocumentFilterForm,
    UploadForm,
)
from portal.documents.models import CustomerUpload, DocumentKind
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations.models import Power
from portal.security import access, current_membership, current_organisation, get_scoped_or_404

# --- supplier documents, customer side --------------------------------------------------------


@bp.route("/documents/")
@access.customer
def list_documents():
    membership = current_membership()
    form = DocumentFilterForm(request.args)
    form.kind.choices = choices(
        [("", _("All kinds"))]
        + [(kind, DocumentKind(kind).label) for kind in services.visible_kinds(membership)]
    )
    filters = {}
    if form.validate():
        filters = {
            "kind": form.kind.data or None,
            "search": form.q.data or None,
            "date_from": form.date_from.data,
            "date_to": form.date_to.data,
        }
    page = db.paginate(services.documents_for(membership, **filters), per_page=25, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("documents/list.html", page=page, form=form, filter_args=args)


@bp.route("/documents/<int:document_id>/download")
@access.customer
def download_document(document_id):
    membership = current_membership()
    document = services.get_visible_document(membership, document_id)
    if document is None:
        # The organisation's own invoice seen by a member without the finance power: forbidden,
        # not missing; anything else (another organisation's document) does not exist for them.
        abort(403 if services.hidden_by_power(membership, document_id) else 404)
    return storage.send_stored(document.stored_name, document.original_name, document.content_type)


# --- customer uploads -----------------------------------------------------------------------


@bp.route("/documents/scans")
@access.power(Power.UPLOAD_DOCUMENTS)
def list_uploads():
    page = db.paginate(
        services.organisation_uploads(current_organisation().id), per_page=25, error_out=False
    )
    return render_template("documents/uploads.html", page=page, confirm=ConfirmForm())


@bp.route("/documents/scans/new", methods=["GET", "POST"])
@access.power(Power.UPLOAD_DOCUMENTS)
def new_upload():
    form = UploadForm()
    if request.method == "GET":
        # Links such as "attach a scan" on an order page pre-fill the subject.
        form.subject_kind.data = request.args.get("subject_kind", "")
        form.subject_id.data = request.args.get("subject_id", "")
    if form.validate_on_submit():
        try:
            services.upload_scan(
                current_organisation(),
                current_user,
                form.file.data,
                category=form.category.data,
                comment=form.comment.data,
                subject_kind=form.subject_kind.data or None,
                subject_id=form.subject_id.data or None,
            )
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            flash(_("The scan has been sent for review."), "success")
            return redirect(url_for("documents.list_uploads"))
    return errors.form_page(
        "documents/upload_form.html", form=form, limit=current_app.config["MAX_UPLOAD_MB"]
    )


@bp.route("/documents/scans/<int:upload_id>/download")
@access.power(Power.UPLOAD_DOCUMENTS)
def download_upload(upload_id):
    upload = get_scoped_or_404(CustomerUpload, upload_id)
    if upload.deleted_at is not None:
        abort(404)
    return storage.send_stored(upload.stored_name, upload.original_name, upload.content_type)


@bp.route("/documents/scans/<int:upload_id>/delete", methods=["POST"])
@access.power(Power.UPLOAD_DOCUMENTS)
def delete_upload(upload_id):
    upload = get_scoped_or_404(CustomerUpload, upload_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_upload(upload, current_user)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            flash(_("The scan has been deleted."), "success")
    return redirect(url_for("documents.list_uploads"))


from portal.documents import staff_views  # noqa: E402, F401 - the staff side, same blueprint
