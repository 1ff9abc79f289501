from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
)
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


class ContractForm(FlaskForm):
    number = StringField(_l("Contract number"), validators=[DataRequired(), Length(max=64)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[Optional()])


class EditContractForm(ContractForm):
    gas_act_required = BooleanField(_l("Issue an «Акт приёма-передачи газа» with each monthly УПД"))


def _vat_categories():
    from portal.billing.models import VatCategory

    return [(category.value, category.label) for category in VatCategory]


class NewContractForm(ContractForm):
    price_per_thousand = StringField(
        _l("Tariff from the start date, ₽ per 1,000 m³ without VAT"), validators=[DataRequired()]
    )
    vat_category = SelectField(_l("VAT"), choices=_vat_categories, default="general")


class TariffForm(FlaskForm):
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    price_per_thousand = StringField(
        _l("Price, ₽ per 1,000 m³ without VAT"), validators=[DataRequired()]
    )
    vat_category = SelectField(_l("VAT"), choices=_vat_categories, default="general")


class MeterForm(FlaskForm):
    contract_id = SelectField(_l("Contract"), coerce=int, validate_choice=False)
    serial_number = StringField(_l("Serial number"), validators=[DataRequired(), Length(max=64)])
    model = StringField(_l("Meter model"), validators=[DataRequired(), Length(max=120)])
    digits = StringField(_l("Number of digits (4–10)"), validators=[DataRequired()])
    max_flow = StringField(_l("Maximum flow, m³/h"), validators=[DataRequired()])
    verification_due = DateField(_l("Verification due"), validators=[Optional()])
    address = TextAreaField(_l("Address"), validators=[DataRequired(), Length(max=500)])


class NewMeterForm(MeterForm):
    initial_value = StringField(_l("Initial reading, m³"), validators=[DataRequired()])
    initial_date = DateField(_l("Initial reading date"), validators=[DataRequired()])
