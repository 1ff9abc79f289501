"""Pages: the organisation's webhooks (/organisation/webhooks) and their delivery log."""

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal import errors
from portal.accounts.forms import ConfirmForm
from portal.api import bp, webhooks
from portal.api.order_models import WebhookDelivery, WebhookEndpoint
from portal.errors import UserError
from portal.form_fields import MultiCheckboxField, choices
from portal.organisations.models import Power
from portal.security import access, current_membership, get_scoped_or_404


class WebhookForm(FlaskForm):
    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Where the portal POSTs the events: https://erp.example.ru/portal-hook"),
    )
    events = MultiCheckboxField(_l("Events"))
    submit = SubmitField(_l("Add the webhook"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = choices((e.value, e.label) for e in webhooks.WebhookEvent)


def _page(form, status=200):
    membership = current_membership()
    return (
        render_template(
            "api/webhooks.html",
            endpoints=webhooks.endpoints_of(membership.organisation_id),
            deliveries=webhooks.deliveries_of(membership.organisation_id),
            form=form,
            confirm=ConfirmForm(),
            event_label=webhooks.event_label,
        ),
        status,
    )


@bp.route("/organisation/webhooks")
@access.power(Power.MANAGE_USERS)
def list_webhooks():
    form = WebhookForm()
    form.events.data = [e.value for e in webhooks.WebhookEvent]
    return _page(form)


@bp.route("/organisation/webhooks", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def create_webhook():
    form = WebhookForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        endpoint = webhooks.register_endpoint(current_membership(), form.url.data, form.events.data)
    except UserError as error:
        errors.show(error, form, default_field="url")
        return _page(form, 422)
    # The secret is shown on this answer only (never in a redirect or a flash message).
    response = make_response(render_template("api/webhook_created.html", endpoint=endpoint))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisation/webhooks/<int:endpoint_id>/remove", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def remove_webhook(endpoint_id):
    endpoint = get_scoped_or_404(WebhookEndpoint, endpoint_id)
    if ConfirmForm().validate_on_submit() and endpoint.is_active:
        webhooks.remove_endpoint(endpoint)
        flash(_("The webhook is removed."), "success")
    return redirect(url_for("api_keys.list_webhooks"))


@bp.route("/organisation/webhooks/deliveries/<int:delivery_id>/resend", methods=["POST"])
@access.power(Power.MANAGE_USERS)
def resend_delivery(delivery_id):
    delivery = get_scoped_or_404(WebhookDelivery, delivery_id)
    if ConfirmForm().validate_on_submit():
        webhooks.resend(delivery, current_user)
        flash(_("The event will be sent again shortly."), "success")
    return redirect(url_for("api_keys.list_webhooks"))
