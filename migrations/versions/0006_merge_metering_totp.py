"""merge metering and staff two-factor branches

Revision ID: 0006_merge_metering_totp
Revises: 0003_metering, 0005_staff_totp
Create Date: 2026-11-23 16:29:18.414318

"""
from alembic import op
import sqlalchemy as sa
import portal.database  # noqa: F401 - custom column types used by revisions



# revision identifiers, used by Alembic.
revision = '0006_merge_metering_totp'
down_revision = ('0003_metering', '0005_staff_totp')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
