from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.documents.models import DocumentKind, UploadCategory
from portal.documents.subjects import subject_kinds
from portal.form_fields import choices

FILE_HINT = _l("PDF, JPEG, PNG or TIFF.")


class UploadForm(FlaskForm):
    category = SelectField(
        _l("Category"),
        choices=choices((c.value, c.label) for c in UploadCategory),
        validators=[DataRequired()],
    )
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])
    subject_kind = SelectField(_l("Refers to"), validators=[Optional()])
    subject_id = StringField(_l("Number"), validators=[Optional(), Length(max=20)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Upload"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject_kind.choices = choices([("", _l("nothing")), *subject_kinds()])


class ReviewForm(FlaskForm):
    decision = HiddenField()
    comment = TextAreaField(_l("Comment to the customer"), validators=[Length(max=2000)])
    accept = SubmitField(_l("Accept"))
    reject = SubmitField(_l("Reject"))


class PublishForm(FlaskForm):
    organisation_id = SelectField(_l("Recipient"), coerce=int)
    kind = SelectField(
        _l("Kind"),
        choices=choices((k.value, k.label) for k in DocumentKind),
        validators=[DataRequired()],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    number = StringField(_l("Document number"), validators=[Optional(), Length(max=64)])
    document_date = DateField(_l("Document date"), validators=[Optional()])
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Publish"))


class DocumentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validators=[Optional()])
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
