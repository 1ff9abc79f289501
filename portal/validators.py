"""WTForms validators for Russian requisites, phones, e-mail and passwords (library-backed)."""

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
