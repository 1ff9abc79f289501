"""catalog_promotions: on an item or a whole category, a percentage or a fixed price, ended early

Revision ID: 0031_commercial_terms
Revises: 0030_telemetry
Create Date: 2026-12-03 18:10:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0031_commercial_terms"
down_revision = "0030_telemetry"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_promotions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_catalog_promotions_discount_range"), type_="check")
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column(
            "discount_percent", existing_type=sa.Numeric(precision=5, scale=2), nullable=True
        )
        batch_op.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fixed_price", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(
            sa.Column("ended_at", portal.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_catalog_promotions_category_id_catalog_categories"),
            "catalog_categories",
            ["category_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_catalog_promotions_category_id"), ["category_id"], unique=False
        )
        batch_op.create_check_constraint(
            "discount_range",
            "discount_percent IS NULL OR (discount_percent > 0 AND discount_percent < 100)",
        )
        batch_op.create_check_constraint(
            "fixed_price_positive", "fixed_price IS NULL OR fixed_price > 0"
        )
        batch_op.create_check_constraint(
            "percent_or_price", "(discount_percent IS NULL) <> (fixed_price IS NULL)"
        )
        batch_op.create_check_constraint(
            "item_or_category", "(item_id IS NULL) <> (category_id IS NULL)"
        )


def downgrade():
    # Promotions on a category or at a fixed price had no place before: they are removed.
    op.execute("DELETE FROM catalog_promotions WHERE item_id IS NULL OR fixed_price IS NOT NULL")
    with op.batch_alter_table("catalog_promotions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_catalog_promotions_item_or_category"), type_="check")
        batch_op.drop_constraint(op.f("ck_catalog_promotions_percent_or_price"), type_="check")
        batch_op.drop_constraint(op.f("ck_catalog_promotions_fixed_price_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_catalog_promotions_discount_range"), type_="check")
        batch_op.drop_index(batch_op.f("ix_catalog_promotions_category_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_catalog_promotions_category_id_catalog_categories"), type_="foreignkey"
        )
        batch_op.drop_column("ended_at")
        batch_op.drop_column("fixed_price")
        batch_op.drop_column("category_id")
        batch_op.alter_column(
            "discount_percent", existing_type=sa.Numeric(precision=5, scale=2), nullable=False
        )
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(
            "discount_range", "discount_percent > 0 AND discount_percent < 100"
        )
