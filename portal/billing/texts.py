"""The ledger's own texts: a code and its parameters stored in the row, rendered at display time.

A charge, payment or correction the portal posts itself stores `text_code` and `text_params`
(`LedgerEntry.text`) and is shown in the reader's language through gettext. The `description`
column keeps the Russian text as well: legal documents (the reconciliation act) and the
exports read it in Russian (`text_in(entry, "ru")`), and it is the only text of rows without
a code — a staff adjustment's reason as typed, and old rows migration 0036 could not read.

Parameters are stored already formatted (numbers and dates as the documents print them), so a
text reads the same in every language apart from its words.
"""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

TEXTS = {
    "gas_charge": lambda **p: _(
        "Gas supply for %(month)s, contract %(number)s: %(volume)s m³", **p
    ),
    "gas_recalculation": lambda **p: _(
        "Recalculation for %(month)s, contract %(number)s after corrected readings",
        **p,
    ),
    "payment": lambda **p: _("Payment, document %(number)s", **p),
    "shipment": lambda **p: _(
        "Shipment (UPD) No. %(document)s of %(date)s, order No. %(order)s", **p
    ),
    "shipment_correction": lambda **p: _(
        "Shipment correction: UKD No. %(document)s of %(date)s to UPD No. %(original)s of "
        "%(original_date)s, order No. %(order)s",
        **p,
    ),
    "gas_vat_added": lambda **p: _(
        "VAT correction for gas for %(month)s, contract %(number)s: on %(date)s the VAT rate "
        "is %(new_rate)s %%, it was charged at %(old_rate)s %%. VAT added: %(amount)s RUB.",
        **p,
    ),
    "gas_vat_reduced": lambda **p: _(
        "VAT correction for gas for %(month)s, contract %(number)s: on %(date)s the VAT rate "
        "is %(new_rate)s %%, it was charged at %(old_rate)s %%. VAT reduced: %(amount)s RUB.",
        **p,
    ),
    "shipment_vat_added": lambda **p: _(
        "VAT correction for UPD No. %(number)s of %(date)s: on the shipment date the VAT rate "
        "is %(new_rates)s, it was charged at %(old_rates)s. VAT added: %(amount)s RUB.",
        **p,
    ),
    "shipment_vat_reduced": lambda **p: _(
        "VAT correction for UPD No. %(number)s of %(date)s: on the shipment date the VAT rate "
        "is %(new_rates)s, it was charged at %(old_rates)s. VAT reduced: %(amount)s RUB.",
        **p,
    ),
}


class LedgerText:
    """A ledger text to store: `code` (one of TEXTS) with its parameters (strings)."""

    def __init__(self, code: str, **params):
        if code not in TEXTS:
            raise KeyError(f"unknown ledger text {code!r}")
        self.code = code
        self.params = {key: str(value) for key, value in params.items()}

    def render(self) -> str:
        """In the current language."""
        return render(self.code, self.params)

    def russian(self) -> str:
        """As stored in `description` (and printed on Russian documents)."""
        with force_locale("ru"):
            return self.render()


def render(code: str | None, params: dict | None, fallback: str = "") -> str:
    """The text of `code` with `params` in the current language; `fallback` for rows without a
    code (or with a code or parameters this version does not know)."""
    message = TEXTS.get(code or "")
    if message is None or not params:  # every text has parameters
        return fallback
    try:
        try:
            return message(**params)
        except RuntimeError:  # no request and no language forced (a job, a command)
            with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")):
                return message(**params)
    except (KeyError, TypeError, ValueError, IndexError):
        return fallback


def text_of(entry) -> str:
    """A ledger entry's text in the current language."""
    return render(entry.text_code, entry.text_params, entry.description)


def text_in(entry, locale: str) -> str:
    """A ledger entry's text in `locale` (the reconciliation act: "ru")."""
    with force_locale(locale):
        return text_of(entry)


def set_text(entry, text: LedgerText) -> None:
    """Give an existing entry a new text (its code, parameters and Russian wording)."""
    entry.text_code, entry.text_params = text.code, text.params
    entry.description = text.russian()
