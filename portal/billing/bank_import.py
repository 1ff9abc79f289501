"""The bank statement import: a CSV of payments, posted all together or not at all.

The payer is found by INN; the contract or invoice paid is read from the optional purpose
column (the purpose of the invoice's payment QR names the invoice). A line with an unknown INN
or a purpose naming a contract or document the payer does not have is listed in the report,
and nothing of the file is posted. A purpose naming one of the payer's orders that is not
charged yet (a prepayment) is accepted: the payment is kept for that order."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.billing import lookups
from portal.billing.errors import StatementRejected
from portal.billing.payments import enter_payment, payment_exists
from portal.billing.purpose import read_purpose
from portal.errors import UserError
from portal.extensions import db
from portal.files import tables
from portal.money import MoneyError, to_money
from portal.organisations.models import Organisation
from portal.security import can_manage_organisation

STATEMENT_COLUMNS = {
    "payer_inn": ("payer_inn", "инн плательщика", "инн"),
    "amount": ("amount", "сумма"),
    "date": ("date", "дата"),
    "document_number": ("document_number", "номер документа", "номер"),
}
# Optional: the purpose of payment, from which the contract or invoice paid is read.
PURPOSE_COLUMN = ("purpose", "назначение платежа", "назначение")


@dataclass
class StatementLine:
    number: int
    payer_inn: str = ""
    amount: Decimal | None = None
    entry_date: date | None = None
    document_number: str = ""
    purpose: str = ""
    contract_label: str = ""  # what the purpose was read as, for the report
    organisation: Organisation | None = None
    error: str | None = None


def _parse_date(text: str) -> date:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a plain date
        except ValueError:
            continue
    raise ValueError(text)


def import_bank_statement(content: bytes, user) -> list[StatementLine]:
    """Post every payment line of a CSV statement, or none if any line is wrong."""
    reader = iter(tables.read_csv(content, tables.import_limits(), error=UserError))
    header = next(reader, None)
    if not header:
        raise UserError(_l("The file is empty."))
    names = [cell.strip().lower() for cell in header]
    columns = {}
    for key, aliases in STATEMENT_COLUMNS.items():
        found = next((index for index, name in enumerate(names) if name in aliases), None)
        if found is None:
            raise UserError(
                _(
                    "The first line must name the columns: payer_inn; amount; date; "
                    "document_number. Column %(name)s is missing.",
                    name=key,
                )
            )
        columns[key] = found
    purpose_column = next((i for i, name in enumerate(names) if name in PURPOSE_COLUMN), None)
    today = clock.local_today()
    lines, seen = [], set()
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        line = StatementLine(number)
        lines.append(line)
        try:
            cells = {key: row[index].strip() for key, index in columns.items()}
        except IndexError:
            line.error = _("The line has fewer columns than the header.")
            continue
        line.payer_inn, line.document_number = cells["payer_inn"], cells["document_number"]
        if purpose_column is not None and purpose_column < len(row):
            line.purpose = row[purpose_column].strip()
        try:
            line.amount = to_money(cells["amount"])
        except MoneyError:
            line.error = _("The amount is not a number.")
            continue
        if line.amount <= 0:
            line.error = _("The amount must be positive.")
            continue
        try:
            line.entry_date = _parse_date(cells["date"])
        except ValueError:
            line.error = _("The date must look like 31.12.2025.")
            continue
        if line.entry_date > today:
            line.error = _("The payment date cannot be in the future.")
            continue
        if not line.document_number:
            line.error = _("The document number is missing.")
            continue
        line.organisation = db.session.scalar(
            select(Organisation).where(Organisation.inn == line.payer_inn)
        )
        if line.organisation is None:
            line.error = _("No customer with INN %(inn)s.", inn=line.payer_inn)
            continue
        if not can_manage_organisation(user, line.organisation):
            line.error = _(
                "Customer with INN %(inn)s is curated by another manager.", inn=line.payer_inn
            )
            continue
        named = read_purpose(line.organisation.id, line.purpose)
        if named.error:
            line.error = named.error
            continue
        line.contract_label = _describe(named)
        key = (line.organisation.id, line.document_number, line.entry_date)
        if key in seen or payment_exists(*key):
            line.error = _("This payment is already recorded.")
            continue
        seen.add(key)
    if not lines:
        raise UserError(_l("The file has no payment lines."))
    if any(line.error for line in lines):
        raise StatementRejected(lines)
    for line in lines:
        enter_payment(
            line.organisation,
            line.amount,
            line.entry_date,
            line.document_number,
            user,
            purpose=line.purpose,
        )
    return lines


def _describe(named) -> str:
    if named.charge is not None:
        return _("document %(number)s", number=named.charge.document_number)
    if named.order_id is not None:
        order = lookups.orders().get(named.order_id)
        return _("prepayment of order %(number)s, kept until it is charged", number=order.number)
    if named.contract_id is not None:
        contract = lookups.contracts().get(named.contract_id)
        return _("contract %(number)s", number=contract.number)
    return _("the oldest open charges")
