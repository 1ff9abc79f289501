from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal import validators
from portal.accounts.models import StaffRole
from portal.form_fields import choices
from portal.onboarding.forms import KIND_CHOICES
from portal.organisations.forms import LOGIN_PATTERN


class OrganisationCreateForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind of activity"), choices=KIND_CHOICES)
    inn = StringField(_l("INN"), validators=[DataRequired(), validators.inn])
    kpp = StringField(_l("KPP"), validators=[Optional(), validators.kpp])
    ogrn = StringField(_l("OGRN / OGRNIP"), validators=[Optional(), validators.ogrn])
    legal_address = TextAreaField(_l("Legal address"), validators=[DataRequired()])
    delivery_address = TextAreaField(_l("Delivery address"), validators=[DataRequired()])
    region = StringField(_l("Region"), validators=[DataRequired(), Length(max=120)])
    user_full_name = StringField(_l("User's full name"), validators=[DataRequired()])
    user_email = StringField(_l("User's e-mail"), validators=[DataRequired(), validators.email])
    user_phone = StringField(_l("User's phone"), validators=[Optional(), validators.phone])
    user_login = StringField(
        _l("Login (never changes)"), validators=[DataRequired(), LOGIN_PATTERN]
    )
    submit = SubmitField(_l("Create and issue an access code"))


class StaffUserForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), validators.email])
    login = StringField(_l("Login"), validators=[DataRequired(), LOGIN_PATTERN])
    role = SelectField(
        _l("Role"),
        choices=choices([(role.value, role.label) for role in StaffRole]),
    )
    submit = SubmitField(_l("Create and e-mail a set-password link"))


class OfferForm(FlaskForm):
    version = StringField(_l("Version"), validators=[DataRequired(), Length(max=32)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(_l("Text"), validators=[DataRequired()])
    submit = SubmitField(_l("Publish; every customer must accept it again"))


class AssignManagerForm(FlaskForm):
    manager_id = SelectField(_l("Account manager"), coerce=int)
    submit = SubmitField(_l("Assign"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"))
    organisation_id = StringField(_l("Organisation id"))
