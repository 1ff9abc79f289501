"""pharmacy: series per shipped order line, series recalls and their notices; batches keep
their date of manufacture (the share of shelf life left)

Revision ID: 0039_series_recalls
Revises: 0037_job_kinds
Create Date: 2026-12-04 19:40:00

"""

import sqlalchemy as sa
from alembic import op

from portal.database import UTCDateTime

revision = "0039_series_recalls"
down_revision = "0037_job_kinds"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_batches") as batch:
        batch.add_column(sa.Column("manufactured_on", sa.Date(), nullable=True))
    op.create_table(
        "pharmacy_line_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("declaration", sa.String(length=120), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_pharmacy_line_series_line_series_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"],
            name=op.f("fk_pharmacy_line_series_order_line_id_order_lines"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["catalog_items.id"], name=op.f("fk_pharmacy_line_series_item_id_catalog_items")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["catalog_item_certificates.id"],
            name=op.f("fk_pharmacy_line_series_certificate_id_catalog_item_certificates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"],
            name=op.f("fk_pharmacy_line_series_recorded_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy_line_series")),
        sa.UniqueConstraint(
            "order_line_id", "series", name=op.f("uq_pharmacy_line_series_order_line_id")
        ),
    )
    op.create_index(
        op.f("ix_pharmacy_line_series_order_line_id"), "pharmacy_line_series", ["order_line_id"]
    )
    op.create_index(
        "ix_pharmacy_line_series_item_series", "pharmacy_line_series", ["item_id", "series"]
    )
    op.create_table(
        "pharmacy_recalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("letter_number", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_packs", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["catalog_items.id"], name=op.f("fk_pharmacy_recalls_item_id_catalog_items")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"],
            name=op.f("fk_pharmacy_recalls_created_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy_recalls")),
        sa.UniqueConstraint("item_id", "series", name=op.f("uq_pharmacy_recalls_item_id")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_pharmacy_recalls_stored_name")),
    )
    op.create_index(op.f("ix_pharmacy_recalls_item_id"), "pharmacy_recalls", ["item_id"])
    op.create_table(
        "pharmacy_recall_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("packs", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["pharmacy_recalls.id"],
            name=op.f("fk_pharmacy_recall_notices_recall_id_pharmacy_recalls"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_pharmacy_recall_notices_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"],
            name=op.f("fk_pharmacy_recall_notices_acknowledged_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy_recall_notices")),
        sa.UniqueConstraint(
            "recall_id", "organisation_id", name=op.f("uq_pharmacy_recall_notices_recall_id")
        ),
    )
    op.create_index(
        op.f("ix_pharmacy_recall_notices_organisation_id"),
        "pharmacy_recall_notices",
        ["organisation_id"],
    )


def downgrade():
    op.drop_table("pharmacy_recall_notices")
    op.drop_table("pharmacy_recalls")
    op.drop_table("pharmacy_line_series")
    with op.batch_alter_table("catalog_batches") as batch:
        batch.drop_column("manufactured_on")
