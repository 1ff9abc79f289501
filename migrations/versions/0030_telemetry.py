"""metering: meter_telemetry, hourly and daily consumption series per meter

One row per meter, granularity and interval start (unique), so a repeated point replaces
its value. Filled by the API's telemetry endpoints; later by corrector file imports.

Revision ID: 0030_telemetry
Revises: 0029_api_orders_webhooks
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0030_telemetry"
down_revision = "0029_api_orders_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meter_telemetry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("metering_point_id", sa.Integer(), nullable=False),
        sa.Column("granularity", sa.String(length=8), nullable=False),
        sa.Column("starts_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("volume", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("counter_value", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["metering_point_id"], ["metering_points.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "metering_point_id", "granularity", "starts_at", name="uq_meter_telemetry_point"
        ),
    )
    op.create_index("ix_meter_telemetry_org", "meter_telemetry", ["organisation_id"])


def downgrade():
    op.drop_index("ix_meter_telemetry_org", table_name="meter_telemetry")
    op.drop_table("meter_telemetry")
