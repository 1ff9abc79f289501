from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SubmitField
from wtforms.validators import DataRequired


class StatementForm(FlaskForm):
    period_start = DateField(
        _l("Period from"), validators=[DataRequired(message=_l("Enter a date."))]
    )
    period_end = DateField(_l("Period to"), validators=[DataRequired(message=_l("Enter a date."))])
    contract_id = SelectField(_l("Scope"))
    submit = SubmitField(_l("Prepare the statement"))
