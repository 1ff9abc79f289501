from sqlalchemy import select

from portal.extensions import db
from portal.pharmacy.models import LineSeries, SeriesRecall
from tests.factories import login


def test_the_demo_buyer_has_an_order_shipped_with_series_and_a_recall_to_acknowledge(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    recall = db.session.scalar(select(SeriesRecall))
    assert recall.series == "DM2612R" and recall.letter_number.startswith("№ 01и-2145/26")
    (notice,) = recall.notices
    assert len(db.session.scalars(select(LineSeries)).all()) == 3
    client = app.test_client()
    login(client, "buyer", "demo-portal-2026")
    client.post("/offer", data={"accept": "y"})
    client.post("/privacy/consent", data={"version": "1", "accept": "y"})
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-testid="recalls-panel"' in dashboard and "DM2612R" in dashboard
    assert client.get(f"/pharmacy/recalls/{recall.id}").status_code == 200
