"""Jinja filters: the fast path of the date filter prints what Babel prints."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, format_date

from portal.formatting import format_volume, local_date, local_datetime, money, number, vat_rate


@pytest.mark.parametrize(
    "day", [date(2026, 11, 22), date(2026, 1, 5), date(999, 12, 31), date(1, 1, 1)]
)
def test_default_date_pattern_matches_babel(app, day):
    with app.test_request_context(), app.app_context(), force_locale("ru"):
        assert local_date(day) == format_date(day, "dd.MM.yyyy")


def test_english_pages_print_dates_money_and_numbers_the_english_way(app):
    moment = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    with app.test_request_context(), force_locale("en"):
        assert local_date(date(2026, 11, 22)) == "Nov 22, 2026"
        assert local_datetime(moment) == "Nov 23, 2026, 01:30"  # shown in Moscow time
        assert money(Decimal("1234567.5")) == "1,234,567.50\u00a0₽"
        assert number(Decimal("2E+1")) == "20" and number(Decimal("12345.678")) == "12,345.678"
        assert vat_rate(Decimal("9.50")) == "9.5" and vat_rate(Decimal("2E+1")) == "20"
        assert format_volume(Decimal("12345.600")) == "12,345.6"
    with app.test_request_context(), force_locale("ru"):
        assert local_date(date(2026, 11, 22)) == "22.11.2026"
        assert local_datetime(moment) == "23.11.2026 01:30"
        assert money(Decimal("1234567.5")) == "1\u202f234\u202f567,50\u00a0₽"
        assert number(Decimal("2E+1")) == "20" and number(Decimal("12345.5")) == "12\u00a0345,5"
        assert vat_rate(Decimal("9.50")) == "9,5" and vat_rate(Decimal("2E+1")) == "20"
        assert format_volume(Decimal("12345.600")) == "12\u00a0345,6"


def test_other_patterns_and_datetimes_still_go_through_babel(app):
    with app.test_request_context():
        assert local_date(date(2026, 11, 22), "LLLL yyyy").lower().startswith("ноябр")
        moment = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23 November in Moscow
        assert local_date(moment) == "23.11.2026"
        assert local_date(None) == ""
