"""Revision 0026 on a catalogue that already holds items: their stored search text follows
the new rule (units apart, one decimal mark) and the word list is rebuilt; downgrading
restores the old text."""

import pytest
from alembic import command
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.catalog.models import item_search_text
from portal.extensions import db
from tests.test_migrations import fresh_database_url


@pytest.fixture
def catalogue_before(app, tmp_path):
    url, drop = fresh_database_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    migrated = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with migrated.app_context():
        upgrade(revision="0018_merge_billing_hardening")
        yield migrated
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def test_upgrade_recomputes_the_search_text_of_existing_items(catalogue_before):
    old = "бинт марлевый 7м×14см 0,5мм a00241"  # as 0011's rule stored it
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO catalog_items (sku, trade_name, dosage_form, strength, is_rx,"
                " is_vital, is_cold_chain, vat_category, min_quantity, order_multiple, is_active,"
                " search_text, created_at) VALUES ('A00241', 'Бинт марлевый', NULL,"
                " '7м×14см 0,5мм', false, false, false, 'reduced', 1, 1, true, :old,"
                " CURRENT_TIMESTAMP)"
            ),
            {"old": old},
        )
        connection.execute(text("INSERT INTO catalog_search_words (word) VALUES ('7м×14см')"))
    upgrade()
    with db.engine.connect() as connection:
        stored = connection.scalar(text("SELECT search_text FROM catalog_items"))
        words = set(connection.scalars(text("SELECT word FROM catalog_search_words")))
    assert stored == " бинт марлевый 7 м x 14 см 0.5 мм a00241"
    # What the application computes for the same item, by the rule the migration froze.
    assert stored == item_search_text(
        "Бинт марлевый", *[None] * 2, "7м×14см 0,5мм", None, "A00241", None
    )
    assert words == {"бинт", "марлевый"}
    config = current_app.extensions["migrate"].migrate.get_config()
    command.downgrade(config, "0018_merge_billing_hardening")
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT search_text FROM catalog_items")) == old
