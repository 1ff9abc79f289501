"""The submission window's one rule and a deviation warning that compares like with like."""

import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.metering import submission
from portal.metering.models import Reading
from portal.metering.warnings import reference_per_day, warning_message
from tests.metering.helpers import add_reading, make_meter

BEFORE_WINDOW = date(2026, 11, 5)


def submit(client, values, reading_date):
    data = {"reading_date": reading_date.isoformat()}
    for meter, value in values.items():
        data[f"value-{meter.id}"] = value
    return client.post("/metering/readings", data=data)


def november_reading(meter):
    return db.session.scalar(
        select(Reading).where(
            Reading.metering_point_id == meter.id, Reading.period == date(2026, 11, 1)
        )
    )


def test_page_before_the_window_names_its_dates_and_the_rule(login_as, gas_user, meters, today):
    today(BEFORE_WINDOW)
    page = login_as(gas_user).get("/metering/readings").get_data(as_text=True)
    assert "Приём ещё не начался" in page
    assert "Показания за ноябрь 2026 принимаются с 20.11.2026 по 25.11.2026" in page
    assert "Переданные раньше сохраняются с пометкой «досрочно»" in page


def test_early_reading_is_saved_marked_early_and_shown_to_staff(login_as, gas_user, meters, today):
    today(BEFORE_WINDOW)
    first, _second = meters
    client = login_as(gas_user)
    response = submit(client, {first: "5100"}, BEFORE_WINDOW)
    assert response.status_code == 302
    reading = november_reading(first)
    assert reading.is_early and not reading.is_late and reading.needs_review
    page = client.get("/metering/readings").get_data(as_text=True)
    assert "Приём показаний ещё не начался: показания сохранены с пометкой «досрочно»" in page
    assert ">досрочно</span>" in page


def test_reading_inside_the_window_is_neither_early_nor_late(gas_user, meters, today, in_request):
    first, _second = meters
    submission.submit_readings(
        first.organisation_id,
        gas_user,
        date(2026, 11, 22),
        [submission.ReadingInput(first.id, "5100")],
    )
    reading = november_reading(first)
    assert not reading.is_early and not reading.is_late and not reading.needs_review


def test_same_consumption_per_day_as_last_year_gives_no_warning(
    gas_user, gas_org, today, in_request
):
    """Ten days of use against last year's month: per day they agree, so no warning."""
    meter = make_meter(gas_org, digits=7, max_flow="100", serial="SN-DAY")
    add_reading(meter, date(2025, 10, 1), 0)
    add_reading(meter, date(2025, 11, 1), 3100, consumption=3100)  # 100 m³ a day
    add_reading(meter, date(2025, 12, 1), 6100, consumption=3000)
    add_reading(meter, date(2026, 10, 31), 50000)
    result = submission.submit_readings(
        gas_org.id, gas_user, date(2026, 11, 10), [submission.ReadingInput(meter.id, "51000")]
    )
    # 1,000 m³ over 10 days = 100 m³ a day, as on 31.10–10.11.2025: no warning (a month
    # against month rule would have compared 1,000 with last November's 3,100 and warned).
    assert result.warnings == {}
    assert november_reading(meter).warning_code is None


def test_deviation_warning_carries_the_figures_in_both_languages(
    app, gas_user, gas_org, today, in_request
):
    meter = make_meter(gas_org, digits=7, max_flow="100", serial="SN-FIG")
    add_reading(meter, date(2025, 10, 1), 0)
    add_reading(meter, date(2025, 11, 1), 3100, consumption=3100)
    add_reading(meter, date(2025, 12, 1), 6100, consumption=3000)
    add_reading(meter, date(2026, 10, 31), 50000)
    submission.submit_readings(
        gas_org.id, gas_user, date(2026, 11, 10), [submission.ReadingInput(meter.id, "52500")]
    )
    db.session.commit()
    reading = november_reading(meter)
    assert reading.warning_code == "deviation"
    assert reading.warning_params == {
        "volume": "2500.000",
        "days": 10,
        "per_day": "250.0",
        "reference_per_day": "100.0",
        "reference_from": "2025-10-31",
        "reference_to": "2025-11-10",
        "percent": 150,
    }
    with force_locale("ru"):
        assert reading.warning == (
            "Расход 2\u00a0500 м³ за 10 дн. (250 м³ в сутки) отличается на 150\u00a0% от расхода "
            "за те же даты прошлого года, 31.10.2025–10.11.2025 (100 м³ в сутки). "
            "Убедитесь, что показание верное."
        )
    with force_locale("en"):
        assert reading.warning == (
            "Consumption of 2,500 m³ over 10 days (250 m³ a day) differs by 150% from the "
            "same dates last year, Oct 31, 2025–Nov 10, 2025 (100 m³ a day). "
            "Please make sure the reading is right."
        )


def test_last_year_span_across_two_readings_is_spread_per_day():
    readings = [
        (date(2025, 10, 22), None),
        (date(2025, 11, 22), Decimal("3100")),  # 100 a day
        (date(2025, 12, 22), Decimal("6000")),  # 200 a day
    ]
    # 12.11–02.12.2025: 10 days at 100 and 10 days at 200.
    assert reference_per_day(readings, date(2025, 11, 12), date(2025, 12, 2)) == Decimal(150)
    # Not covered by last year's readings: no reference, no warning.
    assert reference_per_day(readings, date(2025, 12, 12), date(2026, 1, 12)) is None


def test_stored_english_warning_is_shown_in_russian(login_as, gas_user, meters, today):
    first, _second = meters
    reading = add_reading(first, date(2026, 11, 21), 5100, consumption=100)
    reading.warning_code = "deviation_month"
    reading.warning_params = {"volume": "100", "reference": "1000", "percent": 90}
    db.session.commit()
    page = login_as(gas_user).get(f"/metering/meters/{first.id}").get_data(as_text=True)
    assert "Расход 100 м³ отличается от того же месяца прошлого года (1\u00a0000 м³)" in page


def _migration():
    path = Path(__file__).parents[2] / "migrations/versions/0033_reading_warning_codes.py"
    spec = importlib.util.spec_from_file_location("warning_codes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_sentences_are_read_back_into_codes(app):
    parse = _migration().parse_stored_warning
    russian = (
        "Расход 2\u00a0000 м³ отличается от того же месяца прошлого года (1\u00a0000,5 м³) "
        "на 100%. Убедитесь, что показание верное."
    )
    assert parse(russian) == (
        "deviation_month",
        {"volume": "2000", "reference": "1000.5", "percent": 100},
    )
    english = (
        "Consumption 12\u00a0345,6 m³ differs from the same month last year (700 m³) by 55%. "
        "Please make sure the reading is right."
    )
    assert parse(english) == (
        "deviation_month",
        {"volume": "12345.6", "reference": "700", "percent": 55},
    )
    assert parse("Проверьте пломбу") == ("note", {"text": "Проверьте пломбу"})
    with app.test_request_context(), force_locale("en"):
        code, params = parse(russian)
        assert warning_message(code, params).startswith(
            "Consumption 2,000 m³ differs from the same month last year (1,000.5 m³) by 100%"
        )
        assert warning_message("note", {"text": "Проверьте пломбу"}) == "Проверьте пломбу"
