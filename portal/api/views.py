"""Pages: an organisation's API keys (/organisation/api-keys), the OpenAPI document and the
API reference (/api/v1/openapi.json, /api/v1/docs: the document rendered on the server)."""

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.api import bp, keys, reference
from portal.api.forms import ApiKeyForm
from portal.api.models import ApiKey
from portal.api.problems import TITLES
from portal.database import utcnow
from portal.errors import UserError
from portal.organisations.models import Power
from portal.security import access, current_membership, get_scoped_or_404

api_docs = Blueprint("api_docs", __name__, url_prefix="/api/v1")


def _form(membership):
    form = ApiKeyForm()
    form.limit_powers(membership.powers)
    return form


def _key_list_page(form, status=200):
    membership = current_membership()
    return (
        render_template(
            "api/keys.html",
            keys=keys.keys_of(membership.organisation_id),
            form=form,
            confirm=ConfirmForm(),
            now=utcnow(),
        ),
        status,
    )


@bp.route("/organisation/api-keys")
@access.power(Power.MANAGE_USERS)
def list_keys():
    membership = current_membership()
    form = _form(membership)
    form.powers.data = [Power.VIEW_PRICES.value] if Power.VIEW_PRICES in membership.powers else []
    return _key_list_page(form)


@bp.route("/organisation/api-keys", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def create_key():
    membership = current_membership()
    form = _form(membership)
    if not form.validate_on_submit():
        return _key_list_page(form, 422)
    try:
        key, token = keys.create_key(
            membership,
            name=form.name.data,
            powers=form.powers.data,
            expires_on=form.expires_on.data,
            networks_text=form.networks.data or "",
        )
    except UserError as error:
        errors.show(error, form, default_field="name")
        return _key_list_page(form, 422)
    # The full key is shown on this answer only: never stored, never in a redirect or flash.
    response = make_response(render_template("api/key_created.html", key=key, token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisation/api-keys/<int:key_id>/revoke", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def revoke_key(key_id):
    key = get_scoped_or_404(ApiKey, key_id)
    form = ConfirmForm()
    if form.validate_on_submit() and keys.revoke_key(key, current_user):
        flash(_("The key «%(name)s» is revoked.", name=key.name), "success")
    return redirect(url_for("api_keys.list_keys"))


@api_docs.route("/openapi.json")
@access.public
def openapi_document():
    return jsonify(current_app.extensions["portal_api"].spec.to_dict())


@api_docs.route("/docs")
@access.public
def reference_page():
    spec = current_app.extensions["portal_api"].spec.to_dict()
    return render_template(
        "api/reference.html",
        spec=spec,
        operations=reference.operations(spec),
        schemas=reference.schemas(spec),
        problem_types=[(slug, title) for slug, title in TITLES.values()],
    )
