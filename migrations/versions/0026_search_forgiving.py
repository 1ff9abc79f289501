"""catalog: search text with numbers apart from units; Russian collation for names

The stored search text of every item is recomputed by the new rule («200мг» as «200 мг»,
«7х14» and «7 × 14» as «7 x 14», «0,5» as «0.5», «мг/мл» as «мг / мл», «0,1%» as
«0.1 %») and begins with a space (a word's start can be matched, the first word's too);
the word list is rebuilt from it. Names are sorted in Russian order: on PostgreSQL the ICU
collation `ru_icu` (ru-RU), on SQLite the application's collation of the same name (portal/collation.py); the
name index is rebuilt with it so that the sorted catalogue is still read off the index.

Revision ID: 0026_search_forgiving
Revises: 0025_api_keys
Create Date: 2026-12-03 14:20:00

"""

import re

import sqlalchemy as sa
from alembic import op

import portal.collation  # noqa: F401 - registers ru_icu on SQLite connections
import portal.database  # noqa: F401 - custom column types used by revisions

revision = "0026_search_forgiving"
down_revision = "0025_api_keys"
branch_labels = None
depends_on = None

NAME_INDEX = "ix_catalog_items_name_order"

# portal.catalog.models.normalise_search_text as of this revision, frozen here.
_BY = re.compile(r"(?<=\d)\s*[xх*×]\s*(?=\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_GLUED = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[а-я])(?=\d)")


def _new_text(*parts):
    text = " ".join(str(p) for p in parts if p)
    text = text.lower().replace("ё", "е").replace("×", " x ")
    text = _BY.sub(" x ", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = _GLUED.sub(" ", text)
    text = text.replace("/", " / ").replace("%", " % ")
    return " " + " ".join(text.split())  # with item_search_text's leading space


def _old_text(*parts):  # the rule of 0011_search_words
    text = " ".join(str(p) for p in parts if p).lower().replace("ё", "е")
    return " ".join(text.split())


def _words(text):  # portal.catalog.models.search_words, unchanged since 0011
    return {
        w for w in (text or "").split() if 3 <= len(w) <= 120 and not any(c.isdigit() for c in w)
    }


def _recompute(rule):
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT i.id, i.trade_name, i.generic_name, i.dosage_form, i.strength, m.name,"
            " i.sku, i.barcode FROM catalog_items i"
            " LEFT JOIN catalog_manufacturers m ON m.id = i.manufacturer_id"
        )
    ).all()
    update = sa.text("UPDATE catalog_items SET search_text = :text WHERE id = :id")
    values = [{"id": row[0], "text": rule(*row[1:])} for row in rows]
    for start in range(0, len(values), 5000):
        bind.execute(update, values[start : start + 5000])
    found = set()
    for (text,) in bind.execute(sa.text("SELECT search_text FROM catalog_items WHERE is_active")):
        found |= _words(text)
    bind.execute(sa.text("DELETE FROM catalog_search_words"))
    ordered = sorted(found)
    insert = sa.text("INSERT INTO catalog_search_words (word) VALUES (:word)")
    for start in range(0, len(ordered), 5000):
        bind.execute(insert, [{"word": w} for w in ordered[start : start + 5000]])


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE COLLATION IF NOT EXISTS ru_icu (provider = icu, locale = 'ru-RU')")
    op.drop_index(NAME_INDEX, table_name="catalog_items")
    op.create_index(
        NAME_INDEX, "catalog_items", [sa.text("trade_name COLLATE ru_icu"), "id"], unique=False
    )
    _recompute(_new_text)


def downgrade():
    _recompute(_old_text)
    op.drop_index(NAME_INDEX, table_name="catalog_items")
    op.create_index(NAME_INDEX, "catalog_items", ["trade_name", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP COLLATION IF EXISTS ru_icu")
