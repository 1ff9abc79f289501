"""The delivery date a buyer chooses at checkout: the serving warehouse's working days only
(lead time, the cut-off, weekends and Russian holidays); anything else is refused next to the
field and nothing is saved."""

import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import calendar_ru
from portal.extensions import db
from portal.inventory import delivery
from portal.orders.models import CartLine, Order
from tests.catalog.builders import make_item, stock_of, warehouse
from tests.factories import login
from tests.orders.test_orders import checkout, fill_cart


@pytest.mark.parametrize(
    ("now", "lead_time", "earliest"),
    [
        # Thursday before the 15:00 cut-off: the next working day; 1–3 May 2026 are days off.
        (datetime(2026, 4, 30, 10, 0), 1, date(2026, 5, 4)),
        # after the cut-off the order is taken into work on Monday 4 May
        (datetime(2026, 4, 30, 15, 0), 1, date(2026, 5, 5)),
        # on a day off (Saturday 2 May) likewise
        (datetime(2026, 5, 2, 10, 0), 1, date(2026, 5, 5)),
        # a lead time of 3 working days from Friday 4 December 2026
        (datetime(2026, 12, 4, 9, 0), 3, date(2026, 12, 9)),
        # 31 December 2026 and the New Year holidays are no delivery days
        (datetime(2026, 12, 30, 10, 0), 1, date(2027, 1, 11)),
    ],
)
def test_earliest_delivery_date_follows_lead_time_cut_off_and_the_russian_calendar(
    app, now, lead_time, earliest
):
    store = warehouse(lead_time_days=lead_time)
    assert delivery.earliest_delivery_date(store, now) == earliest
    dates = delivery.delivery_dates(store, now)
    assert dates[0] == earliest and len(dates) == 10
    assert dates == sorted(set(dates))
    assert all(calendar_ru.is_working_day(day) for day in dates)
    # no working day is skipped between the first and the last choice
    day, between = dates[0], []
    while day <= dates[-1]:
        if calendar_ru.is_working_day(day):
            between.append(day)
        day += timedelta(days=1)
    assert between == dates


def test_the_cut_off_and_the_number_of_choices_are_settings(app, monkeypatch):
    store = warehouse(lead_time_days=1)
    monkeypatch.setitem(app.config, "ORDER_CUTOFF", "11:30")
    monkeypatch.setitem(app.config, "DELIVERY_DATE_CHOICES", 3)
    dates = delivery.delivery_dates(store, datetime(2026, 12, 3, 11, 45))  # Thursday
    assert dates == [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)]


def allowed_dates():
    return delivery.delivery_dates(warehouse())


def first_day_off_within(dates):
    day = dates[0]
    while calendar_ru.is_working_day(day):
        day += timedelta(days=1)
    assert day < dates[-1]
    return day


def test_checkout_offers_the_working_days_and_stores_the_chosen_one(
    app, login_as, buyer, pharmacy, manager
):
    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 2)
    page = client.get("/checkout").get_data(as_text=True)
    dates = allowed_dates()
    offered = re.findall(r'<option (?:selected )?value="(\d{4}-\d\d-\d\d)"', page)
    assert offered == [day.isoformat() for day in dates]
    assert f'<option selected value="{dates[0].isoformat()}"' in page  # the earliest first
    chosen = dates[2]
    response = checkout(client, pharmacy, delivery_date=chosen.isoformat())
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.delivery_date == chosen
    shown = f"{chosen:%d.%m.%Y}"
    assert shown in client.get(f"/orders/{order.id}").get_data(as_text=True)
    with client.get(f"/orders/{order.id}/order.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.data)).active
    assert f"Дата доставки: {shown}" in [row[0] for row in sheet.iter_rows(values_only=True)]
    staff = app.test_client()
    login(staff, manager)
    assert shown in staff.get(f"/backoffice/orders/{order.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "tampered",
    ["day off", "today", "past the last choice", "2026-02-30", "завтра", "2026-12-07T00:00"],
)
def test_a_delivery_date_outside_the_allowed_days_is_refused_and_nothing_is_saved(
    login_as, buyer, pharmacy, outbox, tampered
):
    item = make_item("Нурофен", price="100.00", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 4)
    dates = allowed_dates()
    value = {
        "day off": first_day_off_within(dates).isoformat(),
        "today": date.today().isoformat(),
        "past the last choice": calendar_ru.add_working_days(dates[-1], 1).isoformat(),
    }.get(tampered, tampered)
    response = checkout(client, pharmacy, delivery_date=value)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    message = (
        f"Выберите дату доставки из списка: рабочие дни с {dates[0]:%d.%m.%Y} "
        f"по {dates[-1]:%d.%m.%Y}."
    )
    # next to the field, tied to it for screen readers
    assert f'<div id="delivery_date-errors" class="invalid-feedback">{message}</div>' in page
    assert 'aria-describedby="delivery_date-errors"' in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.scalar(select(CartLine.quantity)) == 4  # the cart is kept
    assert stock_of(item) == 10  # nothing reserved
    assert outbox.messages() == []  # and no confirmation e-mail


def test_a_checkout_without_a_date_gets_the_earliest(login_as, buyer, pharmacy):
    """Callers that do not choose (an older form, the API) get the first allowed day."""
    item = make_item("Нурофен", stock=10)
    client = login_as(buyer)
    fill_cart(client, item, 1)
    assert checkout(client, pharmacy).status_code == 302
    assert db.session.scalar(select(Order.delivery_date)) == allowed_dates()[0]
