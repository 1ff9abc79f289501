"""gas plans: planned volumes per contract and month, requests, versions, warnings

The customer's annual and change requests with the manager's decision, the agreed plan's
versions (each a full year of months), the over-consumption warnings already sent, and the
contract's plan settings (tolerance, over/under-consumption coefficients over the tariff).

Revision ID: 0040_gas_plans
Revises: 0039_series_recalls
Create Date: 2026-12-04 19:34:03

"""

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0040_gas_plans"
down_revision = "0039_series_recalls"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "gas_plan_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision_comment", sa.String(length=500), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["gas_contracts.id"],
            name=op.f("fk_gas_plan_requests_contract_id_gas_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_gas_plan_requests_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_gas_plan_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_gas_plan_requests_submitted_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gas_plan_requests")),
    )
    with op.batch_alter_table("gas_plan_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gas_plan_requests_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gas_plan_requests_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_gas_plan_requests_status", ["status"], unique=False)

    op.create_table(
        "gas_plan_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("projected", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("planned", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("sent_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["gas_contracts.id"],
            name=op.f("fk_gas_plan_warnings_contract_id_gas_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gas_plan_warnings")),
        sa.UniqueConstraint("contract_id", "period", name=op.f("uq_gas_plan_warnings_contract_id")),
    )
    op.create_table(
        "gas_plan_request_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("requested_volume", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("agreed_volume", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["gas_plan_requests.id"],
            name=op.f("fk_gas_plan_request_lines_request_id_gas_plan_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gas_plan_request_lines")),
        sa.UniqueConstraint(
            "request_id", "period", name=op.f("uq_gas_plan_request_lines_request_id")
        ),
    )
    op.create_table(
        "gas_plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("agreed_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreed_by_id"], ["users.id"], name=op.f("fk_gas_plan_versions_agreed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["gas_contracts.id"],
            name=op.f("fk_gas_plan_versions_contract_id_gas_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_gas_plan_versions_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["gas_plan_requests.id"],
            name=op.f("fk_gas_plan_versions_request_id_gas_plan_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gas_plan_versions")),
        sa.UniqueConstraint(
            "contract_id", "year", "number", name=op.f("uq_gas_plan_versions_contract_id")
        ),
    )
    with op.batch_alter_table("gas_plan_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gas_plan_versions_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "gas_plan_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("volume", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["gas_plan_versions.id"],
            name=op.f("fk_gas_plan_months_version_id_gas_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gas_plan_months")),
        sa.UniqueConstraint("version_id", "period", name=op.f("uq_gas_plan_months_version_id")),
    )
    # Plain ADD COLUMN (SQLite has it): a batch copy of the table would reflect the users
    # table's expression index, which SQLite cannot.
    op.add_column("gas_contracts", sa.Column("plan_tolerance", sa.Numeric(5, 4), nullable=True))
    for column in ("overuse_coefficient", "underuse_coefficient"):
        op.add_column("gas_contracts", sa.Column(column, sa.Numeric(6, 3), nullable=True))


def downgrade():
    for column in ("underuse_coefficient", "overuse_coefficient", "plan_tolerance"):
        op.drop_column("gas_contracts", column)

    op.drop_table("gas_plan_months")
    with op.batch_alter_table("gas_plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gas_plan_versions_organisation_id"))

    op.drop_table("gas_plan_versions")
    op.drop_table("gas_plan_request_lines")
    op.drop_table("gas_plan_warnings")
    with op.batch_alter_table("gas_plan_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_gas_plan_requests_status")
        batch_op.drop_index(batch_op.f("ix_gas_plan_requests_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_gas_plan_requests_contract_id"))

    op.drop_table("gas_plan_requests")
