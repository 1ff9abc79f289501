"""catalog: the word list's trigram index becomes GiST (nearest words read from the index)

Revision ID: 0012_search_words_gist
Revises: 0011_search_words
Create Date: 2026-11-29 06:40:00

"""

from alembic import op

import portal.database  # noqa: F401 - custom column types used by revisions

revision = "0012_search_words_gist"
down_revision = "0011_search_words"
branch_labels = None
depends_on = None


def _index(method):
    op.drop_index("ix_catalog_search_words_trgm", table_name="catalog_search_words")
    op.create_index(
        "ix_catalog_search_words_trgm",
        "catalog_search_words",
        ["word"],
        postgresql_using=method,
        postgresql_ops={"word": f"{method}_trgm_ops"},
    )


def upgrade():
    _index("gist")


def downgrade():
    _index("gin")
