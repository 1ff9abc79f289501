"""catalog: the items' trigram index is written directly (no GIN pending list)

With GIN's default fastupdate, new and changed items go to a pending list that every search
reads in full until VACUUM or autoanalyze merges it. After a catalogue import that list was
~475 pages (2,338 items), and every search scanned it: 4-5 ms per search, even for one SKU.
A catalogue is read far more often than written, so the index is kept up to date on write.

Revision ID: 0013_search_index_direct
Revises: 0012_search_words_gist
Create Date: 2026-11-29 07:50:00

"""

from alembic import op

import portal.database  # noqa: F401 - custom column types used by revisions

revision = "0013_search_index_direct"
down_revision = "0012_search_words_gist"
branch_labels = None
depends_on = None

INDEX = "ix_catalog_items_search_trgm"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's index of the search text is a plain one
    op.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")
    # Turning it off does not merge what is already pending.
    op.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {INDEX} RESET (fastupdate)")
