from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal import validators
from portal.form_fields import choices
from portal.onboarding.models import ApplicationStatus
from portal.organisations.forms import (
    LOGIN_PATTERN,
    contract_date_field,
    contract_number_field,
    deferral_field,
)
from portal.organisations.models import OrganisationKind
from portal.privacy.forms import APPLICATION_CONSENT_LABEL

KIND_PAIRS = [(kind.value, kind.label) for kind in OrganisationKind]
KIND_CHOICES = choices(KIND_PAIRS)


class ApplicationForm(FlaskForm):
    representative_name = StringField(
        _l("Your full name"), validators=[DataRequired(), Length(max=200)]
    )
    organisation_name = StringField(
        _l("Organisation name"), validators=[DataRequired(), Length(max=300)]
    )
    email = StringField(_l("Corporate e-mail"), validators=[DataRequired(), validators.email])
    phone = StringField(_l("Phone"), validators=[DataRequired(), validators.phone])
    region = StringField(_l("City or region"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind of activity"), choices=KIND_CHOICES)
    inn = StringField(_l("INN"), validators=[DataRequired(), validators.inn])
    ogrn = StringField(_l("OGRN / OGRNIP (optional)"), validators=[Optional(), validators.ogrn])
    licence_number = StringField(
        _l("Pharmacy licence number (optional)"), validators=[Optional(), Length(max=64)]
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)])
    # A separate consent (152-ФЗ art. 9), never pre-ticked; the version shown is the one given.
    consent = BooleanField(
        APPLICATION_CONSENT_LABEL,
        validators=[
            DataRequired(
                message=_l(
                    "Without your consent to the processing of personal data we cannot "
                    "review the application."
                )
            )
        ],
    )
    consent_version = HiddenField()
    submit = SubmitField(_l("Send the application"))

    def application_data(self) -> dict:
        return {
            name: (getattr(self, name).data or None)
            for name in (
                "representative_name",
                "organisation_name",
                "email",
                "phone",
                "region",
                "kind",
                "inn",
                "ogrn",
                "licence_number",
                "comment",
            )
        }


class ApproveForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind of activity"), choices=KIND_CHOICES)
    kpp = StringField(_l("KPP"), validators=[Optional(), validators.kpp])
    ogrn = StringField(_l("OGRN / OGRNIP"), validators=[Optional(), validators.ogrn])
    legal_address = TextAreaField(_l("Legal address"), validators=[DataRequired()])
    delivery_address = TextAreaField(_l("Delivery address"), validators=[DataRequired()])
    region = StringField(_l("Region"), validators=[DataRequired(), Length(max=120)])
    admin_login = StringField(
        _l("Administrator's login (optional)"), validators=[Optional(), LOGIN_PATTERN]
    )
    contract_number = contract_number_field(_l("Supply contract number (optional)"))
    contract_date = contract_date_field(_l("Supply contract date (optional)"))
    deferral_days = deferral_field()
    submit = SubmitField(_l("Approve and create the organisation"))
    # A pharmacy's contract left blank gets today's date and a generated «П-{year}-{seq}».
    number_may_be_blank = True

    def contract(self) -> dict:
        return {
            "number": self.contract_number.data,
            "contract_date": self.contract_date.data,
            "deferral_days": self.deferral_days.data,
        }

    def requisites(self) -> dict:
        return {
            name: getattr(self, name).data or None
            for name in (
                "legal_name",
                "kind",
                "kpp",
                "ogrn",
                "legal_address",
                "delivery_address",
                "region",
            )
        }


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (sent to the applicant)"), validators=[DataRequired(), Length(min=5, max=2000)]
    )
    submit = SubmitField(_l("Reject"))


class InfoRequestForm(FlaskForm):
    question = TextAreaField(
        _l("What do you need to know?"), validators=[DataRequired(), Length(min=5, max=2000)]
    )
    submit = SubmitField(_l("Ask the applicant"))


class ReplyForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Send the answer"))


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("All"))] + [(s.value, s.label) for s in ApplicationStatus]),
        default="",
    )
    kind = SelectField(
        _lp("organisation", "Kind"), choices=choices([("", _l("All"))] + KIND_PAIRS), default=""
    )
    region = StringField(_l("Region"))
