from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.form_fields import choices
from portal.privacy.models import ConsentPurpose

# Never pre-ticked: a consent is only given by the person's own tick (art. 9 of 152-ФЗ).
PORTAL_CONSENT_LABEL = _l(
    "I give my consent to the processing of my personal data for using the portal"
)
PROMOTIONS_CONSENT_LABEL = _l(
    "I agree to receive e-mails about promotions and news (optional; can be withdrawn at any time)"
)
APPLICATION_CONSENT_LABEL = _l(
    "I give my consent to the processing of my personal data for reviewing the application"
)


class PortalConsentForm(FlaskForm):
    version = HiddenField()
    accept = BooleanField(
        PORTAL_CONSENT_LABEL,
        validators=[DataRequired(message=_l("Tick the box to give the consent."))],
    )
    promotions = BooleanField(PROMOTIONS_CONSENT_LABEL)
    promotions_version = HiddenField()
    submit = SubmitField(_l("Give the consent and continue"))


class PromotionsConsentForm(FlaskForm):
    version = HiddenField()
    accept = BooleanField(
        PROMOTIONS_CONSENT_LABEL,
        validators=[DataRequired(message=_l("Tick the box to give the consent."))],
    )
    submit = SubmitField(_l("Subscribe"))


class WithdrawForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that my account will be blocked and I will be signed out")
    )
    submit = SubmitField(_l("Withdraw the consent"))


PUBLISHABLE = choices([(purpose.value, purpose.label) for purpose in ConsentPurpose])


class PublishVersionForm(FlaskForm):
    purpose = SelectField(_l("Document"), choices=PUBLISHABLE)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(
        _l("Text"), validators=[DataRequired(), Length(max=100_000)], render_kw={"rows": 14}
    )
    submit = SubmitField(_l("Publish the new version"))
