"""merge catalogue and orders

Revision ID: 0007_merge_catalog
Revises: 0002_catalog, 0006_merge_metering_totp
Create Date: 2026-11-23 16:37:00.019836

"""
from alembic import op
import sqlalchemy as sa
import portal.database  # noqa: F401 - custom column types used by revisions



# revision identifiers, used by Alembic.
revision = '0007_merge_catalog'
down_revision = ('0002_catalog', '0006_merge_metering_totp')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
