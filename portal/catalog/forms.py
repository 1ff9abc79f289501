from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class CatalogImportForm(FlaskForm):
    file = FileField(_l("Catalogue file (XLSX or CSV)"), validators=[FileRequired()])
    dry_run = BooleanField(_l("Only check the file, do not save"))
