from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import choices
from portal.tickets.models import TicketType

TYPE_HINTS = {
    TicketType.QUESTION: _l("Any question about supplies, prices or settlements."),
    TicketType.CONTRACT_CHANGE: _l("Change of terms, requisites or delivery points."),
    TicketType.METER_VERIFICATION: _l("Schedule the verification of a gas meter."),
    TicketType.DOCUMENT_COPY: _l("A copy of an invoice, act, waybill or certificate."),
    TicketType.COMPLAINT: _l("Quality of goods or service."),
    TicketType.RETURN: _l("Return goods from a delivered order."),
}
RETURN_REASONS = {
    "defect": _l("Defect or damage"),
    "wrong_item": _l("Wrong item delivered"),
    "expiry": _l("Short expiry date"),
    "surplus": _l("Delivered more than ordered"),
}
# The type-specific fields of each form; the first list is required.
TYPE_FIELDS = {
    TicketType.QUESTION: ([], []),
    TicketType.CONTRACT_CHANGE: (["change_description"], ["contract_id", "effective_date"]),
    TicketType.METER_VERIFICATION: (["meter_serial"], ["contract_id", "preferred_date"]),
    TicketType.DOCUMENT_COPY: (["document_name"], ["period"]),
    TicketType.COMPLAINT: ([], ["order_id"]),
    TicketType.RETURN: (["order_id", "return_reason", "return_items"], []),
}
ATTACHMENT_HINT = _l("Optional. PDF, JPEG, PNG or TIFF, several files allowed.")


class TicketForm(FlaskForm):
    title = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Describe the request"), validators=[DataRequired(), Length(max=5000)])
    order_id = StringField(_l("Order number"), validators=[Optional(), Length(max=20)])
    contract_id = StringField(_l("Contract number"), validators=[Optional(), Length(max=20)])
    change_description = TextAreaField(
        _l("What should change"), validators=[Optional(), Length(max=2000)]
    )
    effective_date = DateField(_l("From what date"), validators=[Optional()])
    meter_serial = StringField(_l("Meter serial number"), validators=[Optional(), Length(max=64)])
    preferred_date = DateField(_l("Preferred date"), validators=[Optional()])
    document_name = StringField(
        _l("Which document (name, number)"), validators=[Optional(), Length(max=200)]
    )
    period = StringField(_l("Period"), validators=[Optional(), Length(max=100)])
    return_reason = SelectField(
        _l("Reason for the return"),
        choices=choices([("", "—"), *RETURN_REASONS.items()]),
        validators=[Optional()],
    )
    return_items = TextAreaField(
        _l("Items and quantities to return"), validators=[Optional(), Length(max=2000)]
    )
    attachments = MultipleFileField(_l("Attachments"))
    submit = SubmitField(_l("Send the request"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=5000)])
    attachments = MultipleFileField(_l("Attachments"))
    submit = SubmitField(_l("Send"))


class StaffCommentForm(CommentForm):
    status = SelectField(_l("New status"), validators=[Optional()])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Responsible manager"), validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))


# Labels of the type-specific fields, for showing a ticket's details.
DETAIL_LABELS = {
    name: unbound.args[0]
    for name, unbound in vars(TicketForm).items()
    if name in {n for required, optional in TYPE_FIELDS.values() for n in required + optional}
}
