from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal import validators
from portal.form_fields import choices


class LoginForm(FlaskForm):
    login = StringField(_l("Login or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password or access code"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("E-mail or login"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send the link"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), validators.strong_password]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Save the password"))


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[Optional()])


class AcceptOfferForm(FlaskForm):
    accept = BooleanField(
        _l("I have read and accept the terms of the offer agreement"),
        validators=[DataRequired(message=_l("Tick the box to accept the agreement."))],
    )
    submit = SubmitField(_l("Accept and continue"))


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), validators.email])
    phone = StringField(_l("Phone"), validators=[Optional(), validators.phone])
    language = SelectField(_l("Language"), choices=choices([("ru", "Русский"), ("en", "English")]))
    notify_order_status = BooleanField(_l("E-mail me when an order changes status"))
    notify_request_answers = BooleanField(
        _l("E-mail me when a request is answered or a scan reviewed")
    )
    notify_reading_reminders = BooleanField(_l("Remind me to submit meter readings"))
    notify_payment_reminders = BooleanField(
        _l("Remind me of invoices falling due and overdue (members with finance access)")
    )
    submit = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change state (CSRF-protected)."""

    submit = SubmitField(_l("Confirm"))


class TwoFactorCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the authenticator app"),
        validators=[DataRequired(), Length(min=6, max=7)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Confirm"))
