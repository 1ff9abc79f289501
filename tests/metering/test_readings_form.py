"""Entering readings through the table form: validation next to each field, all or nothing."""

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import event, func, select

from portal.extensions import db
from portal.metering import readings, submission
from portal.metering.models import Reading
from portal.organisations.models import ALL_POWERS, Power
from tests.documents.files import image_bytes
from tests.factories import login, make_organisation, make_user
from tests.metering.conftest import AFTER_WINDOW
from tests.metering.helpers import add_reading, links, make_meter

PNG = image_bytes("PNG")  # a real image: a forged header alone is refused


def reading_count():
    return db.session.scalar(select(func.count(Reading.id)))


def submit(client, values, reading_date="2026-11-22", **extra):
    data = {"reading_date": reading_date, **extra}
    for meter, value in values.items():
        data[f"value-{meter.id}"] = value
    return client.post("/metering/readings", data=data)


def test_customer_submits_all_meters_at_once(login_as, gas_user, meters, today):
    first, second = meters
    client = login_as(gas_user)
    page = client.get("/metering/readings").get_data(as_text=True)
    assert "SN-1" in page and "5\u00a0000" in page  # previous reading shown
    response = submit(client, {first: "5600", second: "5700,5"})
    assert response.status_code == 302
    saved = db.session.scalars(select(Reading).where(Reading.period == date(2026, 11, 1))).all()
    assert {(r.metering_point_id, r.consumption) for r in saved} == {
        (first.id, Decimal("600")),
        (second.id, Decimal("700.5")),
    }
    assert all(r.entered_by_id == gas_user.id and not r.is_late for r in saved)
    assert "Показания сохранены: 2" in client.get("/metering/readings").get_data(as_text=True)


def test_reading_below_previous_refuses_whole_submission(login_as, gas_user, meters, today):
    first, second = meters
    before = reading_count()
    response = submit(login_as(gas_user), {first: "4990", second: "5600"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Показание меньше предыдущего (5\u00a0000 от 22.10.2026)" in page
    assert "Ничего не сохранено" in page
    assert reading_count() == before  # the valid second meter was not saved either


def test_rollover_needs_explicit_confirmation(login_as, gas_user, gas_org, today):
    meter = make_meter(gas_org, digits=4, max_flow="10")
    add_reading(meter, date(2026, 10, 22), 9900)
    db.session.commit()
    client = login_as(gas_user)
    assert "перешёл через ноль" in submit(client, {meter: "120"}).get_data(as_text=True)
    response = submit(client, {meter: "120"}, **{f"rollover-{meter.id}": "y"})
    assert response.status_code == 302
    reading = db.session.scalar(select(Reading).where(Reading.reading_date == date(2026, 11, 22)))
    assert reading.rolled_over and reading.consumption == Decimal("220")
    assert reading.needs_review  # a rollover is shown to the manager


def test_consumption_above_max_flow_is_refused(login_as, gas_user, meters, today):
    first, _second = meters
    # 31 days × 24 h × 10 m³/h = 7,440 m³ at most since 22.10.
    page = submit(login_as(gas_user), {first: "12441"}).get_data(as_text=True)
    assert "больше, чем может пропустить счётчик" in page
    assert "7\u00a0440" in page
    assert reading_count() == 6


def test_text_negative_and_future_are_refused(login_as, gas_user, meters, today):
    first, second = meters
    client = login_as(gas_user)
    page = submit(client, {first: "двенадцать", second: "-5"}).get_data(as_text=True)
    assert "Введите показание числом" in page
    assert "Показание не может быть отрицательным" in page
    page = submit(client, {first: "5100"}, reading_date="2026-11-23").get_data(as_text=True)
    assert "Дата показания не может быть в будущем" in page
    assert reading_count() == 6


def test_second_submission_for_the_month_is_refused(gas_user, meters, today, in_request):
    first, _second = meters
    line = submission.ReadingInput(first.id, "5100")
    submission.submit_readings(first.organisation_id, gas_user, date(2026, 11, 21), [line])
    db.session.commit()
    try:
        submission.submit_readings(first.organisation_id, gas_user, date(2026, 11, 21), [line])
    except submission.ReadingsRejected as rejection:
        assert "уже передано" in rejection.details["errors"][first.id]
    else:
        raise AssertionError("a duplicate was accepted")
    db.session.rollback()
    assert reading_count() == 7


def test_meter_of_another_organisation_is_refused(gas_user, meters, today, in_request):
    stranger = make_organisation("gas")
    foreign = make_meter(stranger)
    db.session.commit()
    line = submission.ReadingInput(foreign.id, "10")
    try:
        submission.submit_readings(meters[0].organisation_id, gas_user, date(2026, 11, 22), [line])
    except submission.ReadingsRejected as rejection:
        assert (
            "не относится к счётчикам вашей организации" in rejection.details["errors"][foreign.id]
        )
    else:
        raise AssertionError("a foreign meter was accepted")
    db.session.rollback()
    assert db.session.scalar(select(Reading).where(Reading.metering_point_id == foreign.id)) is None


def test_large_deviation_from_last_year_warns_but_saves(login_as, gas_user, meters, today):
    first, _second = meters
    client = login_as(gas_user)
    # 2,000 m³ over the 31 days since 22.10 against 1,000 m³ over 22.10–22.11 a year ago.
    response = submit(client, {first: "7000"})
    assert response.status_code == 302
    page = client.get("/metering/readings").get_data(as_text=True)
    assert "Расход 2\u00a0000 м³ за 31 дн. (64,5 м³ в сутки) отличается на 100\u00a0%" in page
    assert "за те же даты прошлого года, 22.10.2025–22.11.2025 (32,3 м³ в сутки)" in page
    assert "SN-1: " in page  # the warning names the meter
    assert reading_count() == 7


def test_late_submission_is_accepted_and_flagged_for_staff(
    app, login_as, gas_user, meters, today, manager
):
    today(AFTER_WINDOW)
    first, _second = meters
    client = login_as(gas_user)
    assert submit(client, {first: "5100"}, reading_date="2026-11-27").status_code == 302
    reading = db.session.scalar(select(Reading).where(Reading.period == date(2026, 11, 1)))
    assert reading.is_late and reading.needs_review
    staff = app.test_client()
    login(staff, manager)
    assert 'data-testid="readings-to-review">1<' in staff.get("/backoffice/").get_data(as_text=True)
    assert "SN-1" in staff.get("/backoffice/metering/review").get_data(as_text=True)


def test_photo_is_checked_by_content_and_served_only_to_the_owner(
    app, login_as, gas_user, meters, today
):
    first, second = meters
    client = login_as(gas_user)
    fake = submit(
        client,
        {first: "5100"},
        **{f"photo-{first.id}": (io.BytesIO(b"<script>x</script>"), "meter.jpg")},
    )
    assert "JPEG или PNG" in fake.get_data(as_text=True)
    assert reading_count() == 6
    ok = submit(client, {first: "5100"}, **{f"photo-{first.id}": (io.BytesIO(PNG), "m.png")})
    assert ok.status_code == 302
    reading = db.session.scalar(select(Reading).where(Reading.period == date(2026, 11, 1)))
    assert reading.photo_name.endswith(".png") and "meter" not in reading.photo_name
    photo = client.get(f"/metering/readings/{reading.id}/photo")
    assert photo.status_code == 200 and photo.data == PNG
    outsider = app.test_client()
    login(outsider, make_user(make_organisation("gas"), ALL_POWERS))
    assert outsider.get(f"/metering/readings/{reading.id}/photo").status_code == 404


def test_users_without_the_power_see_no_readings(
    app, login_as, gas_user, reader_only, gas_org, meters, today
):
    def metering_links(client):
        response = client.get("/")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return sorted({link for link in links(page) if link.startswith("/metering/")})

    with_power = app.test_client()
    login(with_power, gas_user)
    assert "/metering/readings" in metering_links(with_power)
    viewer = make_user(gas_org, {Power.VIEW_PRICES}, login="viewer")
    client = login_as(viewer)
    assert client.get("/metering/readings").status_code == 403
    assert client.get("/metering/account").status_code == 403
    assert metering_links(client) == []


def test_dashboard_shows_window_missing_meters_and_balance(login_as, gas_user, meters, today):
    page = login_as(gas_user).get("/").get_data(as_text=True)
    assert "20.11.2026" in page and "25.11.2026" in page
    assert "SN-1" in page and "SN-2" in page
    assert 'data-testid="balance"' in page


def test_reader_without_finance_power_sees_no_money(
    app, login_as, gas_user, reader_only, meters, today
):
    balance = 'data-testid="balance"'
    with_finance = app.test_client()
    login(with_finance, gas_user)
    assert with_finance.get("/").get_data(as_text=True).count(balance) == 1
    client = login_as(reader_only)
    page = client.get("/").get_data(as_text=True)
    assert "SN-1" in page and page.count(balance) == 0
    assert client.get("/metering/account").status_code == 403


def test_csrf_is_required(login_as, gas_user, meters, today):
    first, _second = meters
    response = login_as(gas_user).post(
        "/metering/readings",
        data={"reading_date": "2026-11-22", f"value-{first.id}": "5100"},
        csrf=False,
    )
    assert response.status_code == 400
    assert reading_count() == 6


def _statements_of_submission(client, values):
    """The SQL statements of one POST of the readings form (the CSRF token fetched first)."""
    token = client.csrf_token()
    data = {"reading_date": "2026-11-22", "csrf_token": token}
    data.update({f"value-{meter.id}": value for meter, value in values.items()})
    statements = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post("/metering/readings", data=data, csrf=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return statements


def test_submission_queries_do_not_grow_with_meters_and_nothing_reloads_after_saving(
    login_as, gas_user, gas_org, meters, today
):
    first, second = meters
    client = login_as(gas_user)
    client.get("/metering/readings")  # the sign-in's checks (offer, consents) settle first
    one = _statements_of_submission(client, {first: "5600"})
    other_user = make_user(gas_org, ALL_POWERS, login="gas-two")
    third = make_meter(gas_org, serial="SN-3")
    add_reading(third, date(2026, 10, 22), 100)
    db.session.commit()
    client = login_as(other_user)
    client.get("/metering/readings")
    # 3 meters, one with a deviation warning (its serial number goes into the message).
    three = _statements_of_submission(client, {second: "7000", third: "200"})
    reads = [[s for s in statements if s.startswith("SELECT")] for statements in (one, three)]
    assert len(reads[0]) == len(reads[1])
    for statements in (one, three):
        first_insert = next(
            i for i, s in enumerate(statements) if s.startswith("INSERT INTO gas_readings")
        )
        # The INSERT comes last: the saved readings, the meters and the user are not loaded
        # again after the commit for the flashed messages or the access log.
        assert all(s.startswith("INSERT INTO gas_readings") for s in statements[first_insert:])
    page = client.get("/metering/readings").get_data(as_text=True)
    assert "Показания сохранены: 2" in page and "SN-2: " in page


def test_one_query_loads_what_the_checks_of_a_submission_need(gas_org, meters, today):
    """The combined query agrees with the separate ones, meter by meter, and keeps the scoping."""
    first, second = meters
    add_reading(first, date(2026, 11, 21), 5100, consumption=100)  # this month already in
    no_history = make_meter(gas_org, serial="SN-NEW")
    null_last_year = make_meter(gas_org, serial="SN-NULL")
    add_reading(null_last_year, date(2025, 11, 20), 10)  # last November without consumption
    add_reading(null_last_year, date(2026, 10, 20), 40, consumption=30)
    retired = make_meter(gas_org, serial="SN-OLD")
    retired.is_active = False
    foreign = make_meter(make_organisation("gas"), serial="SN-FOREIGN")
    db.session.commit()
    asked = [m.id for m in (first, second, no_history, null_last_year, retired, foreign)]
    reading_date = date(2026, 11, 22)
    found, existing, latest, last_year = submission._submission_state(
        gas_org.id, asked, reading_date
    )
    mine = [first.id, second.id, no_history.id, null_last_year.id]
    assert sorted(found) == sorted(mine)  # neither the inactive nor the foreign meter
    period = date(2026, 11, 1)
    assert existing == readings.period_readings(mine, period)
    assert latest == readings.latest_readings(mine)
    assert latest[first.id].reading_date == date(2026, 11, 21)
    assert no_history.id not in latest
    # Last year's readings around the span since each meter's latest reading.
    assert last_year[second.id] == [
        (date(2025, 10, 22), None),
        (date(2025, 11, 22), Decimal("1000")),
    ]
    assert last_year[null_last_year.id] == [(date(2025, 11, 20), None)]
    assert no_history.id not in last_year


def test_a_photo_with_an_image_header_but_no_image_is_refused(login_as, gas_user, meters, today):
    """The one upload check parses the image: a PNG signature in front of HTML is not a photo."""
    first, _second = meters
    client = login_as(gas_user)
    forged = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
    response = submit(
        client, {first: "5100"}, **{f"photo-{first.id}": (io.BytesIO(forged), "meter.png")}
    )
    assert "повреждено" in response.get_data(as_text=True)
    assert reading_count() == 6
