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


# Plain ALTER TABLE on both databases (SQLite ≥ 3.35 drops a column itself): a batch copy of
# organisations on SQLite would reflect the users table's expression index and warn.
def upgrade():
    op.add_column("organisations", sa.Column("edo_id", sa.String(46), nullable=True))


def downgrade():
    op.drop_column("organisations", "edo_id")
