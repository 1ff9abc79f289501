"""organisations: the supply contract (number, date) and the payment deferral in days

Revision ID: 0024_supply_contract_calendar
Revises: 0023_primary_documents
Create Date: 2026-12-03 14:10:00

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0024_supply_contract_calendar"
down_revision = "0023_primary_documents"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supply_contract_number", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("supply_contract_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("payment_deferral_days", sa.Integer(), nullable=True))


def downgrade():
    # SQLite's batch mode rebuilds organisations and reflects the users table its foreign
    # keys lead to, whose expression index lower(email) it cannot read; users is not rebuilt.
    with warnings.catch_warnings(), op.batch_alter_table("organisations", schema=None) as batch_op:
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning
        )
        batch_op.drop_column("payment_deferral_days")
        batch_op.drop_column("supply_contract_date")
        batch_op.drop_column("supply_contract_number")
