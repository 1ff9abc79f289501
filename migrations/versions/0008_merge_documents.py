"""merge documents, requests and statements

Revision ID: 0008_merge_documents
Revises: 0004_documents, 0007_merge_catalog
Create Date: 2026-11-23 16:40:13.691018

"""
from alembic import op
import sqlalchemy as sa
import portal.database  # noqa: F401 - custom column types used by revisions



# revision identifiers, used by Alembic.
revision = '0008_merge_documents'
down_revision = ('0004_documents', '0007_merge_catalog')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
