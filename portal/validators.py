"""WTForms validators for Russian requisites, phones, e-mail and passwords (library-backed),
and the reading of numbers people type (quantities, readings, amounts)."""

import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.ru import inn as inn_number
from stdnum.ru import ogrn as ogrn_number
from wtforms.validators import ValidationError as FieldError


def _clean_digits(field):
    field.data = (field.data or "").strip().replace(" ", "")
    return field.data


def inn(form, field):
    value = _clean_digits(field)
    if not value:
        return
    try:
        field.data = inn_number.validate(value)
    except InvalidLength as error:
        raise FieldError(
            _l("An INN has 10 digits (organisation) or 12 (sole proprietor).")
        ) from error
    except InvalidFormat as error:
        raise FieldError(_l("An INN consists of digits only.")) from error
    except (InvalidChecksum, ValidationError) as error:
        raise FieldError(_l("This INN has a wrong check digit; please check it.")) from error


def ogrn(form, field):
    value = _clean_digits(field)
    if not value:
        return
    try:
        field.data = ogrn_number.validate(value)
    except InvalidLength as error:
        raise FieldError(_l("An OGRN has 13 digits (OGRNIP: 15).")) from error
    except InvalidFormat as error:
        raise FieldError(_l("An OGRN consists of digits only.")) from error
    except (InvalidChecksum, ValidationError) as error:
        raise FieldError(_l("This OGRN has a wrong check digit; please check it.")) from error


def kpp(form, field):
    value = _clean_digits(field)
    if value and (len(value) != 9 or not value[:4].isdigit() or not value[6:].isdigit()):
        raise FieldError(_l("A KPP has 9 characters, e.g. 770701001."))


def phone(form, field):
    """Accept +7 (495) 123-45-67, 8 495 123 45 67, ...; store E.164 (+74951234567)."""
    value = (field.data or "").strip()
    if not value:
        return
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException as error:
        raise FieldError(_l("Enter a phone number such as +7 495 123-45-67.")) from error
    if not phonenumbers.is_valid_number(number):
        raise FieldError(_l("This phone number does not exist; please check it."))
    field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(form, field):
    value = (field.data or "").strip()
    if not value:
        return
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise FieldError(_l("Enter a valid e-mail address, e.g. name@company.ru.")) from error
    field.data = result.normalized


def strong_password(form, field):
    value = field.data or ""
    if len(value) < 10:
        raise FieldError(_l("Use at least 10 characters."))
    if value.isdigit() or value.isalpha():
        raise FieldError(_l("Mix letters with digits or symbols."))
    login = getattr(getattr(form, "login", None), "data", None)
    if login and login.lower() in value.lower():
        raise FieldError(_l("The password must not contain your login."))


# --- numbers typed by people -------------------------------------------------------------------
# Python reads more into a number than a person means: int("٣") is 3 and Decimal("٣") too,
# "²".isdigit() is true but int("²") raises, Decimal("1e5") is 100000, "1_000" is 1000, and
# int() of 5,000 digits raises. A person in Russia or in Excel types the digits 0-9, spaces (or
# no-break spaces) between thousands and a comma or a dot: that is all these accept, and each
# refusal is a NumberError with a message, never another exception.

NUMBER_SPACES = (" ", "\u00a0", "\u202f", "\u2009")
DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)", re.ASCII)


class NumberError(ValueError):
    """A typed number refused; `reason` is "digits", "length" or "format"."""

    def __init__(self, message, reason):
        super().__init__(str(message))
        self.message = message
        self.reason = reason


def number_text(raw, *, max_chars=40) -> str:
    """The typed text without its spaces; refuses digits other than 0-9 and absurd lengths."""
    text = str(raw if raw is not None else "").strip()
    for space in NUMBER_SPACES:
        text = text.replace(space, "")
    if not text.isascii():
        if any(not char.isascii() and char.isnumeric() for char in text):  # ٣, ², ①, 五
            raise NumberError(_l("Type the number with the digits 0–9."), "digits")
        raise NumberError(_l("Enter a number, e.g. 1234,5."), "format")  # words, other signs
    if len(text) > max_chars:
        raise NumberError(_l("The number is too long."), "length")
    return text


def parse_whole(raw, *, max_digits=9) -> int:
    """A whole number ≥ 0 («12», «1 200», «12,0» as Excel writes it)."""
    text = number_text(raw)
    if text.endswith((".0", ",0")):
        text = text[:-2]
    if not text or not text.isdigit():
        raise NumberError(_l("Enter a whole number."), "format")
    if len(text.lstrip("0")) > max_digits:
        raise NumberError(
            _l("Enter at most %(count)s digits.", count=max_digits),
            "length",
        )
    return int(text)


def parse_decimal(raw, *, max_digits: int) -> Decimal:
    """A number with at most `max_digits` digits before the comma or dot (no exponents)."""
    text = number_text(raw)
    if not DECIMAL_TEXT.fullmatch(text):
        raise NumberError(_l("Enter a number, e.g. 1234,5."), "format")
    whole = text.lstrip("+-").replace(",", ".").partition(".")[0].lstrip("0")
    if len(whole) > max_digits:
        raise NumberError(
            _l("Enter at most %(count)s digits before the decimal point.", count=max_digits),
            "length",
        )
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise NumberError(_l("Enter a number, e.g. 1234,5."), "format") from error
