"""Jinja filters: the fast path of the date filter prints what Babel prints."""

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale, format_date

from portal.formatting import local_date


@pytest.mark.parametrize(
    "day", [date(2026, 11, 22), date(2026, 1, 5), date(999, 12, 31), date(1, 1, 1)]
)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_default_date_pattern_matches_babel(app, day, language):
    with app.test_request_context(), app.app_context(), force_locale(language):
        assert local_date(day) == format_date(day, "dd.MM.yyyy")


def test_other_patterns_and_datetimes_still_go_through_babel(app):
    with app.test_request_context():
        assert local_date(date(2026, 11, 22), "LLLL yyyy").lower().startswith("ноябр")
        moment = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23 November in Moscow
        assert local_date(moment) == "23.11.2026"
        assert local_date(None) == ""
