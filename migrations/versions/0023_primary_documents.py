"""primary documents: numbered УПД with frozen snapshots; ОКЕИ unit and country of items

primary_documents holds every issued УПД (later УКД and gas documents: kind, series) with a
canonical-JSON snapshot of all it prints and the snapshot's SHA-256; document_counters keeps
the last number per kind, series and year (locked row: numbers without gaps). Items gain the
unit code by ОКЕИ (778 «упак») and the country of origin by ОКСМ (643 «РОССИЯ»).

Revision ID: 0023_primary_documents
Revises: 0022_dunning_credit_hold
Create Date: 2026-12-03 14:00:30.170688

"""
from alembic import op
import sqlalchemy as sa
import portal.database  # noqa: F401 - custom column types used by revisions



# revision identifiers, used by Alembic.
revision = '0023_primary_documents'
down_revision = "0022_dunning_credit_hold"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_counters',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'series', 'year', name=op.f('pk_document_counters'))
    )
    op.create_table('primary_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('gas_charge_id', sa.Integer(), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('issued_at', portal.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_primary_documents_positive_number')),
    sa.ForeignKeyConstraint(['corrects_id'], ['primary_documents.id'], name=op.f('fk_primary_documents_corrects_id_primary_documents')),
    sa.ForeignKeyConstraint(['gas_charge_id'], ['gas_charges.id'], name=op.f('fk_primary_documents_gas_charge_id_gas_charges')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_primary_documents_issued_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_primary_documents_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_primary_documents_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_primary_documents')),
    sa.UniqueConstraint('kind', 'series', 'year', 'number', name='uq_primary_documents_number')
    )
    with op.batch_alter_table('primary_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_primary_documents_gas_charge_id'), ['gas_charge_id'], unique=False)
        batch_op.create_index('ix_primary_documents_org_date', ['organisation_id', 'document_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_primary_documents_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_primary_documents_shipment_id'), ['shipment_id'], unique=False)

    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('okei_code', sa.String(length=4), server_default='778', nullable=False))
        batch_op.add_column(sa.Column('origin_country_code', sa.String(length=3), server_default='643', nullable=True))



def downgrade():
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_column('origin_country_code')
        batch_op.drop_column('okei_code')

    with op.batch_alter_table('primary_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_primary_documents_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_primary_documents_organisation_id'))
        batch_op.drop_index('ix_primary_documents_org_date')
        batch_op.drop_index(batch_op.f('ix_primary_documents_gas_charge_id'))

    op.drop_table('primary_documents')
    op.drop_table('document_counters')
