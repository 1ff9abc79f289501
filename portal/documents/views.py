from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.accounts.forms import ConfirmForm
from portal.documents import bp, services, storage
from portal.documents.forms import (
    CATEGORY_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    DocumentFilterForm,
    PublishForm,
    ReviewForm,
    UploadForm,
)
from portal.documents.models import CustomerUpload, SupplierDocument, UploadStatus
from portal.extensions import db
from portal.form_fields import choices
from portal.organisations.models import Organisation, Power
from portal.security import (
    access,
    current_membership,
    current_organisation,
    get_scoped_or_404,
    require_manage_organisation,
)

LABELS = {"categories": CATEGORY_LABELS, "statuses": STATUS_LABELS, "kinds": KIND_LABELS}


def _form_error(form, error):
    field = getattr(form, error.field or "file", None) or form.file
    field.errors = list(field.errors) + [str(error.message)]


# --- supplier documents, customer side --------------------------------------------------------


@bp.route("/documents/")
@access.customer
def list_documents():
    membership = current_membership()
    form = DocumentFilterForm(request.args)
    form.kind.choices = choices(
        [("", _("All kinds"))]
        + [(kind, KIND_LABELS[kind]) for kind in services.visible_kinds(membership)]
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
    return render_template("documents/list.html", page=page, form=form, filter_args=args, **LABELS)


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
    return render_template("documents/uploads.html", page=page, confirm=ConfirmForm(), **LABELS)


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
        except services.DocumentError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The scan has been sent for review."), "success")
            return redirect(url_for("documents.list_uploads"))
    return render_template(
        "documents/upload_form.html",
        form=form,
        limit=current_app.config["MAX_UPLOAD_MB"],
    ), (200 if not form.errors else 422)


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
        except services.DocumentError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The scan has been deleted."), "success")
    return redirect(url_for("documents.list_uploads"))


# --- staff: review queue and publishing -------------------------------------------------------


@bp.route("/backoffice/scans")
@access.staff()
def review_queue():
    status = request.args.get("status", UploadStatus.PENDING)
    if status not in [s.value for s in UploadStatus] + ["all"]:
        status = UploadStatus.PENDING
    page = db.paginate(
        services.review_queue(None if status == "all" else status), per_page=50, error_out=False
    )
    return render_template("documents/review_queue.html", page=page, status=status, **LABELS)


def _staff_upload_or_404(upload_id):
    upload = db.get_or_404(CustomerUpload, upload_id)
    if upload.deleted_at is not None:
        abort(404)
    return upload


@bp.route("/backoffice/scans/<int:upload_id>", methods=["GET", "POST"])
@access.curator(CustomerUpload, "upload_id")
def review_upload(upload_id):
    upload = _staff_upload_or_404(upload_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review_upload(
                upload, current_user, accept=bool(form.accept.data), comment=form.comment.data
            )
        except services.DocumentError as error:
            db.session.rollback()
            form.comment.errors = list(form.comment.errors) + [str(error.message)]
        else:
            db.session.commit()
            flash(_("The decision has been saved and the customer notified."), "success")
            return redirect(url_for("documents.review_queue"))
    return render_template("documents/review.html", upload=upload, form=form, **LABELS)


@bp.route("/backoffice/scans/<int:upload_id>/download")
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
    db.session.commit()
    return response


@bp.route("/backoffice/documents")
@access.staff()
def staff_documents():
    query = select(SupplierDocument).order_by(
        SupplierDocument.created_at.desc(), SupplierDocument.id.desc()
    )
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "documents/staff_documents.html", page=page, confirm=ConfirmForm(), **LABELS
    )


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
        except services.DocumentError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The document has been published."), "success")
            return redirect(url_for("documents.staff_documents"))
    return render_template("documents/publish.html", form=form), (200 if not form.errors else 422)


@bp.route("/backoffice/documents/<int:document_id>/withdraw", methods=["POST"])
@access.curator(SupplierDocument, "document_id")
def withdraw_document(document_id):
    document = db.get_or_404(SupplierDocument, document_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.withdraw_document(document, current_user)
        except services.DocumentError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The document has been withdrawn."), "success")
    return redirect(url_for("documents.staff_documents"))


@bp.route("/backoffice/documents/<int:document_id>/download")
@access.staff()
def staff_download_document(document_id):
    document = db.get_or_404(SupplierDocument, document_id)
    return storage.send_stored(document.stored_name, document.original_name, document.content_type)
