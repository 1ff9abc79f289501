from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import choices


class StatementForm(FlaskForm):
    period_start = DateField(
        _l("Period from"), validators=[DataRequired(message=_l("Enter a date."))]
    )
    period_end = DateField(_l("Period to"), validators=[DataRequired(message=_l("Enter a date."))])
    contract_id = SelectField(_l("Scope"))
    submit = SubmitField(_l("Prepare the statement"))


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount, ₽"), validators=[DataRequired()])
    entry_date = DateField(_l("Payment date"), validators=[DataRequired()])
    document_number = StringField(
        _l("Payment order number"), validators=[DataRequired(), Length(max=64)]
    )
    contract_id = SelectField(_l("Contract"), coerce=int, validate_choice=False)
    purpose = StringField(
        _l("Purpose of payment (names the contract or invoice it pays)"),
        validators=[Optional(), Length(max=500)],
    )


class AdjustmentForm(FlaskForm):
    amount = StringField(
        _l("Amount, ₽ (positive increases the debt, negative reduces it)"),
        validators=[DataRequired()],
    )
    entry_date = DateField(_l("Date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    contract_id = SelectField(_l("Contract"), coerce=int, validate_choice=False)


class BankStatementForm(FlaskForm):
    file = FileField(_l("Bank statement (CSV)"), validators=[FileRequired()])


class VatRateForm(FlaskForm):
    category = SelectField(_l("Category"))
    rate = StringField(_l("Rate, %"), validators=[DataRequired(), Length(max=8)])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid to (leave empty if open-ended)"), validators=[Optional()])


class AccountFilterForm(FlaskForm):
    """The period and contract of the settlement account page (a GET form: no token)."""

    class Meta:
        csrf = False

    period_start = DateField(_l("From"), validators=[Optional()])
    period_end = DateField(_l("To"), validators=[Optional()])
    contract_id = SelectField(_l("Contract"), validate_choice=False)


class PaymentQrForm(FlaskForm):
    """A payment QR for the debt on the settlement account page (a GET form: changes nothing)."""

    class Meta:
        csrf = False

    scope = RadioField(
        _l("Pay"),
        choices=choices(
            [
                ("debt", _l("The whole debt")),
                ("overdue", _l("The overdue part")),
                ("amount", _l("Another amount")),
            ]
        ),
        default="debt",
        validate_choice=False,
    )
    amount = StringField(_l("Amount, ₽"), validators=[Optional(), Length(max=20)])


class AllocationForm(FlaskForm):
    """A manager's allocation of one payment; the amounts come as share-<charge id> fields."""

    submit = SubmitField(_l("Save the allocation"))


class CreditHoldForm(FlaskForm):
    threshold = StringField(
        _l("Overdue debt allowed, ₽"),
        validators=[DataRequired(message=_l("Enter an amount."))],
        default="0.00",
    )
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)]
    )
    submit = SubmitField(_l("Put on credit hold"))


class ClearCreditHoldForm(FlaskForm):
    clear_reason = TextAreaField(
        _l("Why the hold is lifted"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)],
    )
    submit = SubmitField(_l("Lift the credit hold"))
