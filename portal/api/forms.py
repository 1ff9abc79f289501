from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import MultiCheckboxField, choices
from portal.organisations.models import Power


class ApiKeyForm(FlaskForm):
    name = StringField(
        _lp("api key", "Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What uses the key: «1С:Аптека, главный офис»."),
    )
    powers = MultiCheckboxField(_l("Powers"))
    expires_on = DateField(_l("Valid until (inclusive)"), validators=[Optional()])
    networks = TextAreaField(
        _l("Allowed IP ranges"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
    )
    submit = SubmitField(_l("Create the key"))

    def limit_powers(self, own_powers):
        """Offer only the powers the administrator has (a key never has more)."""
        self.powers.choices = choices((p.value, p.label) for p in Power if p in own_powers)
