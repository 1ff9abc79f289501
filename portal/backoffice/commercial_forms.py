"""Forms of the back office's commercial pages: terms, addresses, promotions, items."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from portal.form_fields import choices
from portal.organisations.forms import contract_number_field
from portal.validators import NumberError, parse_decimal


class DecimalTextField(StringField):
    """A number typed the Russian way («5,5», «1 000 000»); None when left empty."""

    def __init__(self, label=None, validators=None, max_digits=12, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_digits = max_digits

    def process_formdata(self, valuelist):
        self.raw_text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if self.raw_text:
            try:
                self.data = parse_decimal(self.raw_text, max_digits=self.max_digits)
            except NumberError as error:
                raise ValueError(str(error.message)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:f}".replace(".", ",")


class CommercialTermsForm(FlaskForm):
    number_may_be_blank = True  # no contract yet: number and date both left empty
    price_list_id = SelectField(_l("Price type"), coerce=int)
    discount_percent = DecimalTextField(_l("Discount, %"), max_digits=3)
    credit_limit = DecimalTextField(_l("Credit limit, ₽"), max_digits=12)
    contract_number = contract_number_field()
    contract_date = DateField(_l("Supply contract date"), validators=[Optional()])
    deferral_days = IntegerField(
        _l("Payment deferral, calendar days (optional)"), validators=[Optional()]
    )
    submit = SubmitField(_l("Save the terms"))


class AddressForm(FlaskForm):
    address = TextAreaField(_l("Delivery address"), validators=[Length(max=500)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=120)])
    is_default = BooleanField(_l("Default address"))
    submit = SubmitField(_l("Save the address"))


class PromotionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    target = SelectField(
        _l("Applies to"),
        choices=choices([("item", _l("One item (by code)")), ("category", _l("A whole category"))]),
    )
    item_sku = StringField(_l("Item code (SKU)"), validators=[Optional(), Length(max=32)])
    category_id = SelectField(_l("Category"), coerce=int)
    kind = SelectField(
        _l("Offer"),
        choices=choices([("percent", _l("Percentage off")), ("price", _l("Fixed price per pack"))]),
    )
    discount_percent = DecimalTextField(_l("Discount, %"), max_digits=3)
    fixed_price = DecimalTextField(_l("Price per pack, ₽, VAT included"), max_digits=12)
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("Until (inclusive)"), validators=[Optional()])
    submit = SubmitField(_l("Save the promotion"))


class ItemEditForm(FlaskForm):
    vat_category = SelectField(_l("VAT category"))
    min_quantity = IntegerField(_l("Minimum order, packs"), validators=[Optional()])
    order_multiple = IntegerField(_l("Order multiple, packs"), validators=[Optional()])
    is_rx = BooleanField(_l("Prescription only (Rx)"))
    is_vital = BooleanField(_l("Vital and essential (ЖНВЛП)"))
    is_cold_chain = BooleanField(_l("Cold chain 2–8 °C"))
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Save the item"))
