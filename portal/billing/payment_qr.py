"""The payment QR code of ГОСТ Р 56042-2014, which business banking apps read into a payment order.

The string is the UTF-8 variant: the header «ST0001», the encoding «2» (UTF-8) and the separator
«|», then «Key=value» fields: the required Name, PersonalAcc, BankName, BIC, CorrespAcc, and the
optional PayeeINN, KPP, Sum (in kopecks) and Purpose. A value may not contain the separator, so
a requisite with «|» is refused (and named), and none may exceed its length in the standard.

The purpose names the invoice («Оплата по счёту № … от …») and the VAT in it by rate: the bank
statement import reads it back to allocate the payment (allocation.read_purpose).

Public functions (called by the reminders and the receivables report too):
- `payment_qr_text(supplier, amount, purpose)` — the string (raises UserError);
- `payment_fields(supplier, amount, purpose)` — the same as (key, value) pairs, for copying;
- `payment_qr_svg(text)` / `payment_qr_png_data_uri(text)` — the image (segno);
- `invoice_purpose(order, amount=None)` — the purpose for an order's invoice;
- `debt_purpose(documents, amount, on)` — the purpose for a sum of open documents;
- `supplier_qr_problem(supplier)` — the first missing or broken requisite, or None;
- `build_qr(supplier, amount, purpose)` / `order_payment_qr(order)` — a PaymentQr to show.
"""

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.billing.requisites import requisite_problems
from portal.errors import UserError
from portal.money import rate_key, taxed_line_from_gross, to_money

HEADER = "ST00012"  # format ST0001, encoding 2 = UTF-8
SEPARATOR = "|"
# The standard's maximum length of each value, in characters.
LIMITS = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "PayeeINN": 12,
    "KPP": 9,
    "Sum": 18,
    "Purpose": 210,
}
# How the fields are labelled next to the QR (the data as text, for copying).
FIELD_LABELS = {
    "Name": _l("Payee"),
    "PersonalAcc": _l("Account"),
    "BankName": _l("Bank"),
    "BIC": _l("BIK"),
    "CorrespAcc": _l("Correspondent account"),
    "PayeeINN": _l("INN"),
    "KPP": _l("KPP"),
    "Sum": _l("Amount"),
    "Purpose": _l("Purpose of payment"),
}
# Which requisite of the supplier (config SUPPLIER) fills which field.
SUPPLIER_FIELDS = (
    ("Name", "name"),
    ("PersonalAcc", "account"),
    ("BankName", "bank"),
    ("BIC", "bik"),
    ("CorrespAcc", "corr_account"),
    ("PayeeINN", "inn"),
    ("KPP", "kpp"),
)
# The requisite checks (requisites.requisite_problems) that concern the payment fields.
CHECKED = {
    "INN:": "inn",
    "KPP:": "kpp",
    "BIK:": "bik",
    "Account:": "account",
    "Correspondent account:": "corr_account",
}
ZERO = Decimal("0.00")


def _clean(key: str, value) -> str:
    text = " ".join(str(value or "").split())  # no line breaks or tabs inside a value
    if not text:
        raise UserError("empty", key)
    if SEPARATOR in text:
        raise UserError("contains «|», the separator of the QR's fields", key)
    if len(text) > LIMITS[key]:
        raise UserError(f"longer than the {LIMITS[key]} characters allowed", key)
    return text


def kopecks(amount) -> int:
    """The Sum field: the amount in kopecks, a positive whole number."""
    return int(to_money(amount) * 100)


def supplier_qr_problem(supplier: dict) -> str | None:
    """The first requisite of the supplier that keeps the QR from being built, or None.

    Names the setting (e.g. «PORTAL_SUPPLIER_BANK: empty», «PORTAL_SUPPLIER_BIK: not 9
    digits starting with 04»), in English like requisites.requisite_problems: staff see it;
    customers get a neutral message."""
    for _key, name in SUPPLIER_FIELDS:
        if not str(supplier.get(name) or "").strip():
            return f"{setting(name)}: empty"
    for problem in requisite_problems(supplier):
        if problem.startswith(tuple(CHECKED)):
            name = CHECKED[problem.split(":", 1)[0] + ":"]
            return f"{setting(name)}: {problem.split(':', 1)[1].strip()}"
    for key, name in SUPPLIER_FIELDS:
        try:
            _clean(key, supplier.get(name))
        except UserError as error:
            return f"{setting(name)}: {error.message}"
    return None


def setting(name: str) -> str:
    """The environment variable of a supplier requisite (portal/config.py): PORTAL_SUPPLIER_BANK."""
    return f"PORTAL_SUPPLIER_{name.upper()}"


def payment_fields(supplier: dict, amount, purpose: str) -> list[tuple[str, str]]:
    """The QR's fields in the standard's order: [(key, value)]; raises UserError."""
    fields = [(key, _clean(key, supplier.get(name))) for key, name in SUPPLIER_FIELDS]
    total = kopecks(amount)
    if total <= 0:
        raise UserError("not a positive amount", "Sum")
    fields.append(("Sum", _clean("Sum", total)))
    fields.append(("Purpose", _clean("Purpose", purpose)))
    return fields


def payment_qr_text(supplier: dict, amount, purpose: str) -> str:
    """«ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|KPP=…|Sum=…|
    Purpose=…»: the payee from the supplier's requisites, the amount in roubles (Decimal or
    string), Sum in kopecks. Raises UserError naming the field that is missing or wrong."""
    pairs = payment_fields(supplier, amount, purpose)
    return SEPARATOR.join([HEADER] + [f"{key}={value}" for key, value in pairs])


def _qr(text: str):
    # Byte mode in UTF-8 without an ECI header, error correction M (as banking apps expect).
    return segno.make_qr(text, encoding="utf-8", error="m", boost_error=False)


def payment_qr_svg(text: str, *, scale: int = 3) -> Markup:
    """The QR as an inline <svg> element (for pages and for PDFs: WeasyPrint draws it)."""
    svg = _qr(text).svg_inline(
        scale=scale, border=4, dark="#000", light="#fff", omitsize=True, svgclass="payment-qr-code"
    )
    return Markup(svg)  # noqa: S704 - segno's own markup; the text is inside path data only


def payment_qr_png(text: str, *, scale: int = 4) -> bytes:
    """The QR as PNG bytes (an image inside an e-mail)."""
    buffer = io.BytesIO()
    _qr(text).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def payment_qr_png_data_uri(text: str, *, scale: int = 4) -> str:
    """The QR as a PNG data: URI (for an <img> in mail and elsewhere)."""
    return _qr(text).png_data_uri(scale=scale, border=4)


# --- the purpose --------------------------------------------------------------------------


def _rub(amount: Decimal) -> str:
    return f"{to_money(amount):.2f}".replace(".", ",")


def _rate(rate: Decimal) -> str:
    return str(rate_key(rate)).replace(".", ",")


def vat_clause(vat_by_rate: dict[Decimal, Decimal]) -> str:
    """«в т.ч. НДС 10 % 12,34 руб., НДС 22 % 5,00 руб.», or «без НДС» when nothing is taxed.

    `vat_by_rate` maps a rate (percent) to the tax at it; the key None is tax of no known rate."""
    parts = [
        f"НДС {_rate(rate)} % {_rub(amount)} руб."
        for rate, amount in sorted((r, a) for r, a in vat_by_rate.items() if r is not None)
        if rate > 0
    ]
    if vat_by_rate.get(None):  # a correction's VAT whose rate the ledger does not keep
        parts.append(f"НДС {_rub(vat_by_rate[None])} руб.")
    if not parts:
        return "без НДС"
    return "в т.ч. " + ", ".join(parts)


def _scaled(vat_by_rate: dict, part: Decimal, whole: Decimal) -> dict:
    """The VAT of a part payment: each rate's tax in proportion, to the kopeck."""
    if whole <= 0 or part == whole:
        return dict(vat_by_rate)
    return {rate: to_money(amount * part / whole) for rate, amount in vat_by_rate.items()}


@dataclass
class InvoiceLines:
    total: Decimal
    vat_by_rate: dict


def invoice_lines(order) -> InvoiceLines:
    """What the customer is asked to pay for an order: the УПД once it shipped (the shipped
    amount at the shipment's rates), else the invoice for what was ordered."""
    from portal.billing.shipments import shipment_of

    shipment = shipment_of(order.id)
    if shipment is not None:
        return InvoiceLines(
            shipment.total,
            _document_vat(
                (line.vat_rate, line.vat_amount, line.vat_category) for line in shipment.lines
            ),
        )
    taxed = [
        (taxed_line_from_gross(line.amount, line.vat_rate), line.vat_category)
        for line in order.lines
    ]
    return InvoiceLines(
        order.total,
        _document_vat((t.rate, t.vat, category) for t, category in taxed),
    )


def _document_vat(lines: Iterable[tuple]) -> dict:
    vat: dict = {}
    for rate, amount, category in lines:
        if category == "without":
            continue
        vat[rate_key(rate)] = vat.get(rate_key(rate), ZERO) + to_money(amount)
    return vat


def invoice_purpose(order, amount=None) -> str:
    """«Оплата по счёту № {number} от {date}, в т.ч. НДС 10 % … руб., НДС 22 % … руб.».

    The VAT is that of the invoice's lines (of the УПД once shipped), by rate; for a part
    payment (`amount` below the total) each rate's tax in proportion. «без НДС» when no line is
    taxed. The bank import reads the number back to this order's document."""
    lines = invoice_lines(order)
    amount = lines.total if amount is None else to_money(amount)
    vat = _scaled(lines.vat_by_rate, amount, lines.total)
    from portal.billing.payment_status import invoice_date

    day = invoice_date(order)
    return f"Оплата по счёту № {order.number} от {day:%d.%m.%Y}, {vat_clause(vat)}"


def debt_purpose(documents, amount, on: date) -> str:
    """The purpose of paying open documents (payment_status.DocumentStatus) at once:
    «Оплата задолженности на {date}, в т.ч. НДС …», the VAT in proportion to the amount.

    It names no document on purpose: the payment then goes to the oldest open documents of the
    organisation (FIFO), whatever contract they belong to, which is what paying the whole debt
    or its overdue part means."""
    amount = to_money(amount)
    whole = to_money(sum((d.open_amount for d in documents), ZERO))
    vat: dict = {}
    for document in documents:
        share = _scaled(document.vat_by_rate, document.open_amount, document.amount)
        for rate, tax in share.items():
            vat[rate] = vat.get(rate, ZERO) + tax
    vat = _scaled(vat, amount, whole)
    return f"Оплата задолженности на {on:%d.%m.%Y}, {vat_clause(vat)}"


# --- what pages and documents show ----------------------------------------------------------


@dataclass
class PaymentQr:
    """A QR ready to show, or why there is none: `problem` (for staff: names the requisite),
    `paid` (nothing is open). `fields` is the same data as text, for copying."""

    text: str = ""
    svg: Markup | None = None
    fields: list = None  # [(key, value)]
    amount: Decimal = ZERO
    purpose: str = ""
    problem: str | None = None
    paid: bool = False

    @property
    def available(self) -> bool:
        return bool(self.text)


def build_qr(supplier: dict, amount, purpose: str, *, scale: int = 3) -> PaymentQr:
    """A QR for an amount and purpose, or PaymentQr(problem=…) naming what stops it."""
    problem = supplier_qr_problem(supplier)
    if problem:
        return PaymentQr(amount=to_money(amount), purpose=purpose, problem=problem)
    try:
        fields = payment_fields(supplier, amount, purpose)
    except UserError as error:
        return PaymentQr(
            amount=to_money(amount), purpose=purpose, problem=f"{error.field}: {error.message}"
        )
    text = SEPARATOR.join([HEADER] + [f"{key}={value}" for key, value in fields])
    return PaymentQr(
        text=text,
        svg=payment_qr_svg(text, scale=scale),
        fields=fields,
        amount=to_money(amount),
        purpose=purpose,
    )


def order_payment_qr(order, supplier: dict | None = None, *, scale: int = 3) -> PaymentQr:
    """The QR of an order's invoice for what is still open on it (the УПД once shipped):
    nothing when it is paid or the order is cancelled before shipping."""
    from flask import current_app

    from portal.billing.payment_status import document_status

    supplier = supplier if supplier is not None else current_app.config["SUPPLIER"]
    status = document_status(order)
    if status is None or status.open_amount <= 0:
        return PaymentQr(paid=status is not None)
    return build_qr(
        supplier, status.open_amount, invoice_purpose(order, status.open_amount), scale=scale
    )


__all__ = [
    "debt_purpose",
    "build_qr",
    "invoice_purpose",
    "order_payment_qr",
    "payment_fields",
    "payment_qr_png",
    "payment_qr_png_data_uri",
    "payment_qr_svg",
    "payment_qr_text",
    "supplier_qr_problem",
    "vat_clause",
]
