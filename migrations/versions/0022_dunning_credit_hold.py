"""receivables: credit holds per organisation, the payment reminder digests sent, and the
users' payment reminder preference

Revision ID: 0022_dunning_credit_hold
Revises: 0020_privacy_requests
Create Date: 2026-12-03 14:10:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0022_dunning_credit_hold"
down_revision = "0020_privacy_requests"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch copy of users would reflect its expression index
    # (uq_users_email_lower), which SQLite's reflection cannot read.
    op.add_column(
        "users",
        sa.Column(
            "notify_payment_reminders", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
    )
    op.create_table(
        "credit_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "threshold >= 0", name=op.f("ck_credit_holds_threshold_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credit_holds_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_credit_holds_set_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_holds")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_credit_holds_organisation_id")),
    )
    op.create_table(
        "payment_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_payment_reminders_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reminders")),
        sa.UniqueConstraint("organisation_id", "sent_on", name="uq_payment_reminders_day"),
    )
    with op.batch_alter_table("payment_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_reminders_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("payment_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_reminders_organisation_id"))
    op.drop_table("payment_reminders")
    op.drop_table("credit_holds")
    op.drop_column("users", "notify_payment_reminders")
