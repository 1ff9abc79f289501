"""Documents, the staff side (/backoffice/documents/): the review of customers' scans and the
supplier's documents published to customers."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit, errors
from portal.accounts.forms import ConfirmForm
from portal.documents import bp, services, storage
from portal.documents.forms import PublishForm, ReviewForm
from portal.documents.models import CustomerUpload, SupplierDocument, UploadStatus
from portal.errors import UserError
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations.models import Organisation
from portal.security import access, require_manage_organisation

# --- staff: review queue and publishing -------------------------------------------------------


@bp.route("/backoffice/documents/scans")
@access.staff()
def review_queue():
    status = request.args.get("status", UploadStatus.PENDING)
    if status not in [s.value for s in UploadStatus] + ["all"]:
        status = UploadStatus.PENDING
    page = db.paginate(
        services.review_queue(None if status == "all" else status), per_page=50, error_out=False
    )
    return render_template("documents/review_queue.html", page=page, status=status)


def _staff_upload_or_404(upload_id):
    upload = db.get_or_404(CustomerUpload, upload_id)
    if upload.deleted_at is not None:
        abort(404)
    return upload


@bp.route("/backoffice/documents/scans/<int:upload_id>", methods=["GET", "POST"])
@access.curator(CustomerUpload, "upload_id")
def review_upload(upload_id):
    upload = _staff_upload_or_404(upload_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review_upload(
                upload, current_user, accept=bool(form.accept.data), comment=form.comment.data
            )
        except UserError as error:
            errors.show(error, form, default_field="comment")
        else:
            flash(_("The decision has been saved and the customer notified."), "success")
            return redirect(url_for("documents.review_queue"))
    return errors.form_page("documents/review.html", upload=upload, form=form)


@bp.route("/backoffice/documents/scans/<int:upload_id>/download")
@access.staff()
def staff_download_upload(upload_id):
    upload = _staff_upload_or_404(upload_id)
    response = storage.send_stored(upload.stored_name, upload.original_name, upload.content_type)
    # A customer's scan carries people's data (signatures, names, passports of attorneys).
    audit.record(
        "documents.scan_downloaded_by_staff",
        target=upload,
        organisation=upload.organisation_id,
        file=upload.original_name,
    )
    return response


@bp.route("/backoffice/documents")
@access.staff()
def staff_documents():
    query = select(SupplierDocument).order_by(
        SupplierDocument.created_at.desc(), SupplierDocument.id.desc()
    )
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("documents/staff_documents.html", page=page, confirm=ConfirmForm())


@bp.route("/backoffice/documents/new", methods=["GET", "POST"])
@access.staff()
def publish_document():
    form = PublishForm()
    organisations = db.session.scalars(
        select(Organisation)
        .where(Organisation.is_active.is_(True))
        .order_by(Organisation.legal_name)
    ).all()
    form.organisation_id.choices = choices(
        [(0, _("All customers"))] + [(o.id, f"{o.legal_name} ({o.inn})") for o in organisations]
    )
    if form.validate_on_submit():
        if form.organisation_id.data:
            require_manage_organisation(db.get_or_404(Organisation, form.organisation_id.data))
        try:
            services.publish_document(
                current_user,
                form.file.data,
                organisation_id=form.organisation_id.data or None,
                kind=form.kind.data,
                title=form.title.data,
                number=form.number.data,
                document_date=form.document_date.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            flash(_("The document has been published."), "success")
            return redirect(url_for("documents.staff_documents"))
    return errors.form_page("documents/publish.html", form=form)


@bp.route("/backoffice/documents/<int:document_id>/withdraw", methods=["POST"])
@access.curator(SupplierDocument, "document_id")
def withdraw_document(document_id):
    document = db.get_or_404(SupplierDocument, document_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.withdraw_document(document, current_user)
        except UserError as error:
            errors.show(error, category="danger")
        else:
            flash(_("The document has been withdrawn."), "success")
    return redirect(url_for("documents.staff_documents"))


@bp.route("/backoffice/documents/<int:document_id>/download")
@access.staff()
def staff_download_document(document_id):
    document = db.get_or_404(SupplierDocument, document_id)
    return storage.send_stored(document.stored_name, document.original_name, document.content_type)
