"""Payment terms: the one rule for when a document is due.

The invoice for payment prints it, the payment status and the account page show it, the
receivables report ages debt by it and the reminders are sent by it:

- a prepayment order: its invoice (and its shipment) is due PORTAL_PREPAYMENT_BANKING_DAYS
  banking days after the order date, weekends and Russian public holidays skipped
  (portal.calendar_ru);
- a deferred-payment order: the organisation's contract deferral (or
  PORTAL_DEFERRED_PAYMENT_DAYS) in calendar days after the shipment — before it ships, after
  the planned delivery date; a due day that is a day off moves to the next working day
  (art. 193 of the Civil Code);
- a gas month: day PORTAL_GAS_PAYMENT_DAY of the following month (moved the same way);
- any other debit (e.g. a correction of a shipment or a gas charge) follows the document it
  corrects when it is known, else PORTAL_PREPAYMENT_BANKING_DAYS banking days after its date.
"""

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal import calendar_ru, clock
from portal.organisations import contracts


def banking_days() -> int:
    return int(current_app.config.get("PREPAYMENT_BANKING_DAYS", 3))


def local_date(moment) -> date:
    """The day of a stored UTC moment in the portal's time zone (Moscow by default)."""
    if moment is None:
        return clock.local_today()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    return moment.astimezone(zone).date()


def prepayment_due(order) -> date:
    return calendar_ru.add_working_days(local_date(order.created_at), banking_days())


def deferral_days(organisation) -> int:
    return contracts.deferral_days(organisation)


def deferred_due(organisation, start: date) -> date:
    return calendar_ru.next_working_day(start + timedelta(days=deferral_days(organisation)))


def gas_due(entry_date: date) -> date:
    following = clock.month_start(clock.month_end(entry_date) + timedelta(days=1))
    day = max(1, min(int(current_app.config.get("GAS_PAYMENT_DAY", 25)), 28))
    return calendar_ru.next_working_day(following.replace(day=day))


def order_due(order, shipped_on: date | None = None) -> date:
    """When an order's invoice (or shipment, `shipped_on`) is due."""
    if order.payment_terms != "deferred":
        return prepayment_due(order)
    return deferred_due(order.organisation, shipped_on or order.delivery_date)


def other_debit_due(entry_date: date) -> date:
    return calendar_ru.add_working_days(entry_date, banking_days())
