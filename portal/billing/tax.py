"""VAT rates as dated data: the rate of a category on a document's tax date.

The tax date is the shipment date for goods, the last day of the month for gas, and the
invoice's own date for an invoice for payment. A rate row never changes once a document used
it: a new rate is a new row from its start date (the previous open-ended row is closed the
day before), so documents already issued keep the rate they were issued at.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from portal import audit
from portal.billing.models import VatCategory, VatRate
from portal.errors import UserError
from portal.extensions import db
from portal.money import rate_key

# The rates in force in Russia since the general rate became 20 % (Federal Law № 303-ФЗ of
# 03.08.2018) and 22 % (Federal Law № 425-ФЗ of 28.11.2025). The migration that created the
# table inserts the same rows; later rates are added by an administrator on the rates page.
STATUTORY_RATES = (
    (VatCategory.GENERAL, Decimal("20"), date(2019, 1, 1), date(2025, 12, 31)),
    (VatCategory.GENERAL, Decimal("22"), date(2026, 1, 1), None),
    (VatCategory.REDUCED, Decimal("10"), date(2019, 1, 1), None),
    (VatCategory.ZERO, Decimal("0"), date(2019, 1, 1), None),
    (VatCategory.WITHOUT, Decimal("0"), date(2019, 1, 1), None),
)


def ensure_statutory_rates() -> None:
    """Insert the statutory rates when the table is empty (a new database, the demo, tests)."""
    if db.session.scalar(select(VatRate.id).limit(1)) is not None:
        return
    for category, rate, valid_from, valid_to in STATUTORY_RATES:
        db.session.add(
            VatRate(category=category, rate=rate, valid_from=valid_from, valid_to=valid_to)
        )
    db.session.flush()


def category_of(value) -> VatCategory:
    try:
        return VatCategory(value)
    except ValueError as error:
        raise UserError(_l("Unknown VAT category."), "category") from error


def rate_row_on(category, day: date) -> VatRate | None:
    return db.session.scalar(
        select(VatRate)
        .where(
            VatRate.category == str(category),
            VatRate.valid_from <= day,
            or_(VatRate.valid_to.is_(None), VatRate.valid_to >= day),
        )
        .order_by(VatRate.valid_from.desc())
        .limit(1)
    )


def rate_on(category, day: date) -> Decimal:
    """The percentage of a category on a tax date; a clear error when none is in force."""
    row = rate_row_on(category, day)
    if row is None:
        raise UserError(
            _(
                "No VAT rate «%(category)s» is in force on %(date)s: an administrator adds it "
                "on the VAT rates page.",
                category=category_of(category).label,
                date=day.strftime("%d.%m.%Y"),
            )
        )
    return row.rate


def category_for_rate(rate, day: date) -> VatCategory | None:
    """The category whose rate on a day is this number (an import file names 10 or 22)."""
    try:
        wanted = Decimal(str(rate).strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation:
        return None
    matches = [
        VatCategory(row.category)
        for row in db.session.scalars(
            select(VatRate).where(
                VatRate.valid_from <= day,
                or_(VatRate.valid_to.is_(None), VatRate.valid_to >= day),
                VatRate.rate == wanted,
            )
        )
    ]
    # 0 % is both "zero" and "without VAT": a number alone cannot tell them apart.
    return matches[0] if len(matches) == 1 else None


def all_rates() -> list[VatRate]:
    return db.session.scalars(select(VatRate).order_by(VatRate.category, VatRate.valid_from)).all()


def add_rate(category, rate, valid_from: date, user, valid_to: date | None = None) -> VatRate:
    """A new rate of a category from a date; the open-ended rate before it ends the day before.

    Refused when the dates overlap a rate that starts on or after the new one, or a rate that
    already ends after the new start (dates of documents already issued are not re-taxed).
    """
    category = category_of(category)
    try:
        rate = Decimal(str(rate).strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation as error:
        raise UserError(_l("Enter the rate as a number of percent."), "rate") from error
    if not rate.is_finite() or rate < 0 or rate >= 100:
        raise UserError(_l("The rate is a percentage from 0 to 99.99."), "rate")
    if valid_to is not None and valid_to < valid_from:
        raise UserError(_l("The end date cannot be before the start date."), "valid_to")
    rows = db.session.scalars(
        select(VatRate).where(VatRate.category == category).with_for_update()
    ).all()
    new_end = valid_to or date.max
    # The open-ended rate in force before the new start simply ends the day before it.
    closing = [row for row in rows if row.valid_to is None and row.valid_from < valid_from]
    for row in rows:
        if row in closing:
            continue
        if row.valid_from <= new_end and (row.valid_to or date.max) >= valid_from:
            raise UserError(
                _(
                    "The new rate overlaps the rate of %(rate)s %% in force %(period)s. "
                    "Choose dates outside it.",
                    rate=rate_key(row.rate),
                    period=_period_text(row),
                ),
                "valid_from",
            )
    closed = closing[0] if closing else None
    if closed is not None:
        closed.valid_to = valid_from - timedelta(days=1)
    new = VatRate(
        category=category,
        rate=rate,
        valid_from=valid_from,
        valid_to=valid_to,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(new)
    db.session.flush()
    audit.record(
        "billing.vat_rate_added",
        target=new,
        category=str(category),
        rate=str(rate),
        valid_from=valid_from.isoformat(),
        valid_to=valid_to.isoformat() if valid_to else None,
        closed_rate=closed.id if closed else None,
    )
    return new


def _period_text(row: VatRate) -> str:
    start = row.valid_from.strftime("%d.%m.%Y")
    if row.valid_to is None:
        return _("from %(start)s", start=start)
    return _("from %(start)s to %(end)s", start=start, end=row.valid_to.strftime("%d.%m.%Y"))


def rates_on(day: date) -> dict[str, Decimal]:
    """Every category's rate on a day (categories without a rate then are left out)."""
    # One query for all categories; per category the row rate_row_on would pick (the latest
    # valid_from in force on the day).
    rows = db.session.execute(
        select(VatRate.category, VatRate.rate)
        .where(
            VatRate.category.in_([str(category) for category in VatCategory]),
            VatRate.valid_from <= day,
            or_(VatRate.valid_to.is_(None), VatRate.valid_to >= day),
        )
        .order_by(VatRate.valid_from, VatRate.id)
    )
    return {str(category): rate for category, rate in rows}


def rate_text(category, rate) -> str:
    """How a document prints a line's VAT: «22 %», «10 %», «0 %» or «Без НДС»."""
    if str(category) == VatCategory.WITHOUT:
        return "Без НДС"
    return f"{str(rate_key(rate)).replace('.', ',')}\u00a0%"
