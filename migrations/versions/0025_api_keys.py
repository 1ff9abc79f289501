"""API keys (api_keys); catalogue items and organisations' price terms get updated_at

updated_at starts as created_at (items) or now (terms): the first delta sync after the
upgrade is a full one for every client anyway.

Revision ID: 0025_api_keys
Revises: 0024_supply_contract_calendar
Create Date: 2026-12-03 14:00:00

"""

import contextlib
import warnings

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0025_api_keys"
down_revision = "0024_supply_contract_calendar"
branch_labels = None
depends_on = None


@contextlib.contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables a foreign key leads to (organisations ->
    users) and cannot read the expression index lower(email) there; that table is not
    rebuilt, so nothing is lost."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning
        )
        yield


def upgrade():
    with _quiet_reflection():
        _upgrade()


def _upgrade():
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("powers", sa.String(length=255), nullable=False),
        sa.Column("allowed_networks", sa.Text(), nullable=False),
        sa.Column("expires_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=True),
        sa.Column(
            "last_refusal_logged_at", portal.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_keys_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_api_keys_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(
        op.f("ix_api_keys_organisation_id"), "api_keys", ["organisation_id"], unique=False
    )

    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", portal.database.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE catalog_items SET updated_at = created_at")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=portal.database.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index("ix_catalog_items_updated", ["updated_at", "id"], unique=False)

    with op.batch_alter_table("catalog_organisation_pricing", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", portal.database.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE catalog_organisation_pricing SET updated_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table("catalog_organisation_pricing", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=portal.database.UTCDateTime(timezone=True), nullable=False
        )


def downgrade():
    with _quiet_reflection():
        _downgrade()


def _downgrade():
    with op.batch_alter_table("catalog_organisation_pricing", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_items_updated")
        batch_op.drop_column("updated_at")
    op.drop_index(op.f("ix_api_keys_organisation_id"), table_name="api_keys")
    op.drop_table("api_keys")
