from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.form_fields import choices
from portal.pharmacy.models import RecallKind


class RecallForm(FlaskForm):
    """The checks are the service's (portal.pharmacy.recalls.record_recall), per field."""

    sku = StringField(_l("Item code"), validators=[Length(max=32)])
    series = StringField(_l("Series"), validators=[Length(max=40)])
    kind = SelectField(
        _l("Decision"), choices=choices((kind.value, kind.label) for kind in RecallKind)
    )
    letter_number = StringField(
        _l("Regulator's letter (number and date)"), validators=[Length(max=120)]
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    letter = FileField(_l("The letter (PDF or scan)"))
