"""Reading reminders sent once and the history pages' chart."""

from portal.extensions import db
from portal.organisations.models import Power
from tests.factories import make_user
from tests.metering.helpers import svg_references


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_reminders_respect_preferences_and_are_sent_once(app, gas_org, meters, outbox):
    wants = make_user(gas_org, {Power.SUBMIT_READINGS}, login="wants")
    opted_out = make_user(gas_org, {Power.SUBMIT_READINGS}, login="optout")
    opted_out.notify_reading_reminders = False
    money_only = make_user(gas_org, {Power.VIEW_FINANCE}, login="money")
    db.session.commit()
    assert "Reminders sent: 0" in run(app, "send-reading-reminders", "--date", "2026-11-10")
    assert "Reminders sent: 1" in run(app, "send-reading-reminders", "--date", "2026-11-24")
    [message] = outbox.to(wants.email)
    assert "25.11.2026" in message["Subject"] and "SN-1" in outbox.text(message)
    assert not outbox.to(opted_out.email) and not outbox.to(money_only.email)
    assert "Reminders sent: 0" in run(app, "send-reading-reminders", "--date", "2026-11-25")


def test_history_pages_draw_an_accessible_svg_chart(login_as, gas_user, meters, today):
    first, _second = meters
    client = login_as(gas_user)
    page = client.get(f"/metering/meters/{first.id}").get_data(as_text=True)
    assert "<svg" in page and '<title id="chart-title">' in page and "<desc" in page
    # The chart is drawn in the page: it loads nothing (no image, font or style from a URL).
    assert svg_references(page) == []
    assert page.count('class="chart-bar-this"') >= 12
    contract = client.get(f"/metering/contracts/{first.contract_id}").get_data(as_text=True)
    assert "2\u00a0000" in contract  # two meters × 1,000 m³ in October 2026
