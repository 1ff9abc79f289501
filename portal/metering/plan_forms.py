"""The forms of planned volumes: the annual request, a month's change, the manager's decision
and the contract's plan settings. Volumes are text fields checked by plans.py (a message per
field, in the reader's language)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import choices


class AnnualPlanForm(FlaskForm):
    year = SelectField(_l("Year"), coerce=int, validate_choice=False)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=500)])


for _month in range(1, 13):  # month_1 … month_12: the volume of each month, m³
    setattr(AnnualPlanForm, f"month_{_month}", StringField())


class ChangePlanForm(FlaskForm):
    period = DateField(_l("Month"), format="%Y-%m", validators=[DataRequired()])
    volume = StringField(_l("New volume, m³"))
    comment = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


DECISIONS = [
    ("agree", _l("Agree as requested")),
    ("change", _l("Agree with the volumes below")),
    ("reject", _l("Reject")),
]


def _decisions():
    return choices(DECISIONS)


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=_decisions, validate_choice=False)
    comment = TextAreaField(_l("Comment to the customer"), validators=[Length(max=500)])


class PlanTermsForm(FlaskForm):
    tolerance = StringField(_l("Tolerance over the plan, %"), validators=[DataRequired()])
    overuse_coefficient = StringField(_l("Over-consumption coefficient over the tariff"))
    underuse_coefficient = StringField(_l("Under-consumption coefficient over the tariff"))
