"""organisations: the ЭДО participant identifier (ИдПол of the ФНС XML of their documents)

Revision ID: 0028_edo_identifiers
Revises: 0027_gas_upd_ukd
Create Date: 2026-12-03 18:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0028_edo_identifiers"
down_revision = "0027_gas_upd_ukd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("edo_id", sa.String(46), nullable=True))


def downgrade():
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("edo_id")
