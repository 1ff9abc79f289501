from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.catalog.models import CertificateKind
from portal.form_fields import choices


class CatalogImportForm(FlaskForm):
    file = FileField(_l("Catalogue file (XLSX or CSV)"), validators=[FileRequired()])
    dry_run = BooleanField(_l("Only check the file, do not save"))


class CertificateForm(FlaskForm):
    kind = SelectField(
        _l("Document"),
        choices=choices((kind.value, kind.label) for kind in CertificateKind),
        validators=[DataRequired()],
    )
    number = StringField(_l("Registration number"), validators=[DataRequired(), Length(max=64)])
    issued_by = StringField(
        _l("Issued by (certification body)"), validators=[DataRequired(), Length(max=255)]
    )
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    file = FileField(_l("PDF file"), validators=[FileRequired(message=_l("Choose a file."))])
