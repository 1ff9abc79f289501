"""The catalogue's staff pages, under /backoffice/catalog/: the catalogue import and the items'
certificates. Customer pages: views.py."""

from datetime import date
from types import SimpleNamespace

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal import caching, clock, errors, transactions
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import User
from portal.catalog import bp, importer, pricing
from portal.catalog import certificates as certs
from portal.catalog.forms import CatalogImportForm, CertificateForm
from portal.catalog.models import Item, ItemCertificate, normalise_search_text
from portal.collation import ordered
from portal.errors import UserError
from portal.extensions import db
from portal.jobs import background, kinds
from portal.request_guard import text_arg
from portal.security import access


@bp.route("/backoffice/catalog/import", methods=["GET", "POST"])
@access.staff("admin")
def import_catalog():
    """Check a file here (dry run: nothing is kept); import it as a queue job any worker takes,
    the person sent to the job's page (a refusal already known is shown on this form)."""
    form = CatalogImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        upload.close()  # large uploads are spooled to a temporary file
        if form.dry_run.data:
            try:
                report = importer.import_catalog(upload.filename, data, dry_run=True)
            except UserError as error:
                errors.show(error, form, default_field="file")
            else:
                # Checked, not saved: the page answers 200 with the report, nothing is kept.
                transactions.refuse()
                if not report.rejected:
                    return render_template("catalog/import.html", form=form, report=report)
        else:
            try:
                job = background.start(
                    IMPORT_TASK,
                    current_user,
                    data=data,
                    filename=upload.filename,
                    params={
                        "on": clock.local_today().isoformat(),
                        "back": url_for("catalog.import_catalog"),
                    },
                )
            except UserError as error:
                errors.show(error, form, default_field="file")
            else:
                refusal = background.refused_at_once(job)  # in the process, or a quick worker
                if refusal is None:
                    return redirect(url_for("jobs.show_job", job_id=job.id))
                transactions.refuse()
                report = _report_of(refusal.report)
                if not report.rejected:
                    form.file.errors = [*form.file.errors, refusal.message]
    return errors.form_page("catalog/import.html", form=form, report=report)


IMPORT_TASK = "catalog_import"


def _report_of(result: dict):
    return SimpleNamespace(
        created=result.get("created", 0),
        updated=result.get("updated", 0),
        rejected=[SimpleNamespace(**row) for row in result.get("rejected", [])],
    )


@background.handler(IMPORT_TASK, kinds.IMPORTS, title=_l("Catalogue import"))
def _run_import(job, data):
    """The worker's part: the whole file or nothing, the caches of every node forgotten."""
    background.act_as(db.session.get(User, job.requested_by_id))
    on = date.fromisoformat(job.params["on"]) if job.params.get("on") else None
    report = importer.import_catalog(job.filename, data, on=on)
    summary = {"created": report.created, "updated": report.updated}
    if report.rejected:
        rejected = [{"line": row.line, "reason": str(row.reason)} for row in report.rejected]
        raise background.Refused(
            _l("Nothing imported: %(count)s rows rejected.", count=len(rejected)),
            {**summary, "rejected": rejected},
        )
    caching.forget_catalogue()
    return summary


@bp.route("/backoffice/catalog/certificates")
@access.staff()
def certificate_items():
    """Staff find an item (by name, code or barcode) to manage its certificates."""
    text = text_arg("q")
    items = []
    if text:
        items = db.session.scalars(
            select(Item)
            .where(Item.search_text.contains(normalise_search_text(text), autoescape=True))
            .order_by(ordered(Item.trade_name), Item.id)
            .limit(50)
        ).all()
    recent = db.session.scalars(
        select(ItemCertificate).order_by(ItemCertificate.uploaded_at.desc()).limit(20)
    ).all()
    return render_template(
        "catalog/certificate_items.html",
        text=text,
        items=items,
        recent=recent,
        today=pricing.today(),
    )


@bp.route("/backoffice/catalog/items/<int:item_id>/certificates", methods=["GET", "POST"])
@access.staff()
def item_certificates(item_id):
    item = db.get_or_404(Item, item_id)
    form = CertificateForm()
    if form.validate_on_submit():
        try:
            certificate = certs.add_certificate(
                item,
                current_user,
                kind=form.kind.data,
                number=form.number.data,
                issued_by=form.issued_by.data,
                valid_until=form.valid_until.data,
                file_storage=form.file.data,
            )
        except UserError as error:
            errors.show(error, form, default_field="file")
        else:
            flash(_("Document %(number)s added.", number=certificate.number), "success")
            return redirect(url_for("catalog.item_certificates", item_id=item.id))
        finally:
            form.file.data.close()  # large uploads are spooled to a temporary file
    return errors.form_page(
        "catalog/item_certificates.html",
        form=form,
        item=item,
        delete_form=ConfirmForm(),
        certificates=certs.certificates_of(item.id),
        today=pricing.today(),
    )


@bp.route("/backoffice/catalog/certificates/<int:certificate_id>/file")
@access.staff()
def staff_download_certificate(certificate_id):
    return certs.send_certificate(db.get_or_404(ItemCertificate, certificate_id))


@bp.route("/backoffice/catalog/certificates/<int:certificate_id>/delete", methods=["POST"])
@access.staff()
def delete_certificate(certificate_id):
    certificate = db.get_or_404(ItemCertificate, certificate_id)
    item_id = certificate.item_id
    form = ConfirmForm()
    if form.validate_on_submit():
        number = certificate.number
        certs.remove_certificate(certificate)  # the file goes once the removal is committed
        flash(_("Document %(number)s removed.", number=number), "success")
    return redirect(url_for("catalog.item_certificates", item_id=item_id))
