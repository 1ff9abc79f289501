"""billing: payments allocated to charges (payment_allocations), a payment's purpose text

Existing payments are allocated by `flask allocate-payments` (FIFO, idempotent), not here:
the rules read the contracts and documents through the application's code.

Revision ID: 0017_payment_allocation
Revises: 0013_search_index_direct
Create Date: 2026-12-02 16:10:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0017_payment_allocation"
down_revision = "0013_search_index_direct"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=500), nullable=True))
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_entry_id", sa.Integer(), nullable=False),
        sa.Column("charge_entry_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("allocation_date", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_allocations_positive_amount")),
        sa.ForeignKeyConstraint(
            ["charge_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_payment_allocations_charge_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_payment_allocations_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_payment_allocations_payment_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    op.create_index(
        "ix_payment_allocations_charge", "payment_allocations", ["charge_entry_id"], unique=False
    )
    op.create_index(
        "ix_payment_allocations_payment", "payment_allocations", ["payment_entry_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_payment_allocations_payment", table_name="payment_allocations")
    op.drop_index("ix_payment_allocations_charge", table_name="payment_allocations")
    op.drop_table("payment_allocations")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_column("purpose")
