"""catalog: word list for typo-tolerant search; form and strength become searchable

Revision ID: 0011_search_words
Revises: 0010_item_certificates
Create Date: 2026-11-23 18:40:00

"""

import sqlalchemy as sa
from alembic import op

import portal.database  # noqa: F401 - custom column types used by revisions

revision = "0011_search_words"
down_revision = "0010_item_certificates"
branch_labels = None
depends_on = None


def _words(text):
    # The same rule as portal.catalog.models.search_words, frozen here for this revision.
    return {
        w for w in (text or "").split() if 3 <= len(w) <= 120 and not any(c.isdigit() for c in w)
    }


def _search_text(*parts):
    # portal.catalog.models.item_search_text as of this revision.
    text = " ".join(str(p) for p in parts if p).lower().replace("ё", "е")
    return " ".join(text.split())


def _recompute_search_text(bind):
    rows = bind.execute(
        sa.text(
            "SELECT i.id, i.trade_name, i.generic_name, i.dosage_form, i.strength, m.name,"
            " i.sku, i.barcode FROM catalog_items i"
            " LEFT JOIN catalog_manufacturers m ON m.id = i.manufacturer_id"
        )
    ).all()
    update = sa.text("UPDATE catalog_items SET search_text = :text WHERE id = :id")
    values = [{"id": row[0], "text": _search_text(*row[1:])} for row in rows]
    for start in range(0, len(values), 5000):
        bind.execute(update, values[start : start + 5000])


def upgrade():
    _recompute_search_text(op.get_bind())
    words = op.create_table(
        "catalog_search_words",
        sa.Column("word", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_catalog_search_words")),
    )
    op.create_index(
        "ix_catalog_search_words_trgm",
        "catalog_search_words",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    found = set()
    rows = op.get_bind().execute(sa.text("SELECT search_text FROM catalog_items WHERE is_active"))
    for (text,) in rows:
        found |= _words(text)
    ordered = sorted(found)
    for start in range(0, len(ordered), 5000):
        op.bulk_insert(words, [{"word": w} for w in ordered[start : start + 5000]])


def downgrade():
    op.drop_index("ix_catalog_search_words_trgm", table_name="catalog_search_words")
    op.drop_table("catalog_search_words")
