from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.form_fields import choices
from portal.orders.models import PaymentTerms


class AddToCartForm(FlaskForm):
    item_id = HiddenField()
    quantity = StringField(_l("Quantity"), validators=[DataRequired()])
    next = HiddenField()


class QuickOrderForm(FlaskForm):
    lines = TextAreaField(
        _l("Lines: code or barcode, then quantity"),
        validators=[DataRequired(), Length(max=200_000)],
        render_kw={"rows": 10, "placeholder": "A00001 10\n4607000000017 5"},
    )
    skip_invalid = BooleanField(_l("Add the valid lines even if some are rejected"))


class OrderFileForm(FlaskForm):
    file = FileField(_l("Order file (XLSX or CSV)"), validators=[FileRequired()])
    code_column = StringField(
        _l("Column with the code or barcode"), validators=[Optional(), Length(max=3)]
    )
    quantity_column = StringField(
        _l("Column with the quantity"), validators=[Optional(), Length(max=3)]
    )
    skip_invalid = BooleanField(_l("Add the valid lines even if some are rejected"))


class CheckoutForm(FlaskForm):
    address_id = SelectField(_l("Delivery address"), coerce=int, validate_choice=False)
    # The choices are the serving warehouse's delivery days; place_order checks the value.
    delivery_date = SelectField(_l("Delivery date"), validate_choice=False)
    payment_terms = RadioField(
        _l("Payment terms"),
        choices=choices(
            [
                (PaymentTerms.PREPAYMENT.value, _l("Prepayment by invoice")),
                (PaymentTerms.DEFERRED.value, _l("Deferred payment")),
            ]
        ),
        default=PaymentTerms.PREPAYMENT.value,
        validators=[DataRequired()],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])
    idempotency_key = HiddenField()


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class StaffNoteForm(FlaskForm):
    staff_note = TextAreaField(_l("Staff note"), validators=[Optional(), Length(max=2000)])
