from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ReadingsForm(FlaskForm):
    """The date of a table submission; the per-meter inputs are read from the request."""

    reading_date = DateField(_l("Reading date"), validators=[DataRequired()])


class CorrectionForm(FlaskForm):
    value = StringField(_l("Correct reading, m³"), validators=[DataRequired()])
    confirm_rollover = BooleanField(_l("The meter rolled over past zero"))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    reading_date = DateField(_l("Reading date"), validators=[DataRequired()])
    file = FileField(_l("Filled-in template (XLSX)"), validators=[FileRequired()])


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount, ₽"), validators=[DataRequired()])
    entry_date = DateField(_l("Payment date"), validators=[DataRequired()])
    document_number = StringField(
        _l("Payment order number"), validators=[DataRequired(), Length(max=64)]
    )
    contract_id = SelectField(_l("Contract"), coerce=int, validate_choice=False)


class AdjustmentForm(FlaskForm):
    amount = StringField(
        _l("Amount, ₽ (positive increases the debt, negative reduces it)"),
        validators=[DataRequired()],
    )
    entry_date = DateField(_l("Date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    contract_id = SelectField(_l("Contract"), coerce=int, validate_choice=False)


class StatementForm(FlaskForm):
    file = FileField(_l("Bank statement (CSV)"), validators=[FileRequired()])
