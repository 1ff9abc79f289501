from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal import validators
from portal.form_fields import MultiCheckboxField, choices
from portal.organisations import contracts
from portal.organisations.models import Power


def power_field():
    return MultiCheckboxField(_l("Powers"), choices=choices((p.value, p.label) for p in Power))


LOGIN_PATTERN = Regexp(
    r"^[A-Za-z0-9._-]{3,64}$",
    message=_l("3–64 Latin letters, digits, dots, hyphens or underscores."),
)


class MemberForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), validators.email])
    phone = StringField(_l("Phone"), validators=[Optional(), validators.phone])
    login = StringField(_l("Login (optional)"), validators=[Optional(), LOGIN_PATTERN])
    powers = power_field()
    submit = SubmitField(_l("Add and send the invitation"))


class PowersForm(FlaskForm):
    powers = power_field()
    submit = SubmitField(_l("Save the powers"))


def _contract_date(form, field):
    if field.process_errors:
        if (field.raw_data or [""])[0].strip():
            return  # not a date at all: WTForms' own message says so
        field.errors.clear()  # left empty: say what is missing instead
    if field.data is None and getattr(form, "number_may_be_blank", False):
        return
    problem = contracts.date_problem(field.data)
    if problem:
        raise ValidationError(str(problem))


def _contract_number(form, field):
    if not (field.data or "").strip() and getattr(form, "number_may_be_blank", False):
        return
    problem = contracts.number_problem(field.data)
    if problem:
        raise ValidationError(str(problem))


def contract_number_field(label=None):
    return StringField(label or _l("Supply contract number"), validators=[_contract_number])


def contract_date_field(label=None):
    return DateField(
        label or _l("Supply contract date"),
        validators=[_contract_date],
        render_kw={"min": contracts.EARLIEST_DATE.isoformat()},
    )


def deferral_field():
    return IntegerField(
        _l("Payment deferral, calendar days (optional)"),
        validators=[Optional(), NumberRange(min=0, max=contracts.MAX_DEFERRAL_DAYS)],
    )


class SupplyContractForm(FlaskForm):
    contract_number = contract_number_field()
    contract_date = contract_date_field()
    deferral_days = deferral_field()
    submit = SubmitField(_l("Save the contract"))


# An ЭДО participant identifier: the operator's three-character prefix («2BM», «2AE»…) and the
# operator's code of the participant; no «_», which separates the parts of the XML file name.
EDO_ID = r"^2[0-9A-Za-z]{2}[0-9A-Za-z\-]{1,43}$"


class EdoIdForm(FlaskForm):
    edo_id = StringField(
        _l("ЭДО participant identifier"),
        validators=[
            Optional(),
            Length(max=46),
            Regexp(
                EDO_ID,
                message=_l(
                    "An ЭДО identifier starts with its operator's code («2BM-…», «2AE…»): up "
                    "to 46 Latin letters, digits and hyphens."
                ),
            ),
        ],
    )
    submit = SubmitField(_l("Save the identifier"))
