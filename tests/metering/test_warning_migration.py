"""Migration 0033 turns warning sentences stored before it into codes with their figures."""

from datetime import date

from flask_babel import force_locale
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db
from portal.metering.models import Reading
from tests.factories import make_organisation
from tests.metering.helpers import add_reading, make_meter
from tests.test_migrations import fresh_database_url

RUSSIAN = (
    "Расход 2\u00a0000 м³ отличается от того же месяца прошлого года (1\u00a0000 м³) на 100%. "
    "Убедитесь, что показание верное."
)


def test_stored_russian_warning_becomes_a_code_shown_in_english(app, tmp_path):
    url, drop = fresh_database_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    try:
        migrated = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
        with migrated.app_context():
            upgrade()
            meter = make_meter(make_organisation("gas"))
            parsed = add_reading(meter, date(2026, 11, 22), 7000, consumption=2000)
            free = add_reading(meter, date(2026, 12, 22), 7100, consumption=100)
            ids = parsed.id, free.id
            db.session.commit()
            db.session.close()  # no open transaction may hold a lock the ALTER TABLEs wait for
            downgrade(revision="0026_search_forgiving")
            with db.engine.begin() as connection:
                for reading_id, warning in zip(ids, (RUSSIAN, "Пломба сорвана"), strict=True):
                    connection.execute(
                        text("UPDATE gas_readings SET warning = :w WHERE id = :id"),
                        {"w": warning, "id": reading_id},
                    )
            upgrade()
            db.session.expire_all()
            parsed, free = (db.session.scalar(select(Reading).where(Reading.id == i)) for i in ids)
            assert parsed.warning_code == "deviation_month"
            assert parsed.warning_params == {"volume": "2000", "reference": "1000", "percent": 100}
            assert not parsed.is_early
            assert (free.warning_code, free.warning_params) == ("note", {"text": "Пломба сорвана"})
            with migrated.test_request_context(), force_locale("en"):
                assert parsed.warning == (
                    "Consumption 2,000 m³ differs from the same month last year (1,000 m³) by "
                    "100%. Please make sure the reading is right."
                )
            db.session.remove()
            db.engine.dispose()
    finally:
        if drop:
            drop()
