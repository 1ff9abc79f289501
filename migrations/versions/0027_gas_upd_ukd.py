"""billing: gas monthly УПД and УКД; a gas contract may require an «Акт приёма-передачи газа»

The gas УПД (series «Г») and the УКД (kind «ukd», series «К») live in primary_documents and
number with document_counters, which exist already (gas_charge_id, corrects_id). This revision
adds the contract flag and an index to find the corrections of a document.

Revision ID: 0027_gas_upd_ukd
Revises: 0026_search_forgiving
Create Date: 2026-12-03 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027_gas_upd_ukd"
down_revision = "0026_search_forgiving"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy on SQLite): a constant default fills existing rows.
    op.add_column(
        "gas_contracts",
        sa.Column("gas_act_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_primary_documents_corrects_id", "primary_documents", ["corrects_id"])


def downgrade():
    op.drop_index("ix_primary_documents_corrects_id", table_name="primary_documents")
    op.drop_column("gas_contracts", "gas_act_required")
