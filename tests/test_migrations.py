"""The Alembic history builds exactly the schema the models describe, on this test's database."""

import uuid
import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, exc, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db


def fresh_database_url(app_url, tmp_path):
    url = make_url(app_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}", None
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def index_options(connection) -> dict:
    """Storage options of the indexes (PostgreSQL; SQLite has none)."""
    if connection.dialect.name != "postgresql":
        return {}
    rows = connection.execute(
        text(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE c.relkind = 'i' AND n.nspname = current_schema()"
            " AND c.reloptions IS NOT NULL"
        )
    )
    return dict(rows.all())


def expression_indexes(connection) -> dict:
    """Indexes on expressions, by name, with their definition (reflection skips them)."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND (indexdef LIKE '%(lower(%' OR indexdef LIKE '% COLLATE %')"
            )
        )
        return {name: definition.split(" ON ", 1)[1] for name, definition in rows}
    rows = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND (sql LIKE '%(lower(%' OR sql LIKE '% COLLATE %')"
        )
    )
    return {name: " ".join(sql.split(" ON ", 1)[1].replace('"', "").split()) for name, sql in rows}


def _not_a_collated_index(obj, _name, type_, _reflected, _compare_to):
    return not (type_ == "index" and " COLLATE " in " ".join(map(str, obj.expressions)))


def test_migrations_match_the_models(app, tmp_path):
    url, drop = fresh_database_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    try:
        migrated = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
        with migrated.app_context():
            upgrade()
            with db.engine.connect() as connection, warnings.catch_warnings():
                # SQLite's reflection cannot read expression indexes (lower(email)): they are
                # compared by their SQL below instead.
                warnings.filterwarnings(
                    "ignore",
                    "Skipped unsupported reflection of expression-based index",
                    exc.SAWarning,
                )
                warnings.filterwarnings(
                    "ignore", "autogenerate skipping metadata-specified expression-based index"
                )
                # Reflection drops an index's COLLATE (ORDER BY trade_name COLLATE ru_icu):
                # those indexes too are compared by their SQL below instead.
                options = {"include_object": _not_a_collated_index}
                diff = compare_metadata(
                    MigrationContext.configure(connection, opts=options), db.metadata
                )
                migrated_options = index_options(connection)
                migrated_expressions = expression_indexes(connection)
            db.engine.dispose()
        assert diff == [], f"models and migrations differ: {diff}"
        # Alembic does not compare storage options (e.g. a GIN index's fastupdate).
        with db.engine.connect() as connection:
            assert migrated_options == index_options(connection)
            assert migrated_expressions == expression_indexes(connection)
        assert "uq_users_email_lower" in migrated_expressions
        assert "ix_catalog_items_name_order" in migrated_expressions
    finally:
        if drop:
            drop()
