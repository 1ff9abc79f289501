"""The catalogue's word list (catalog_search_words), which the typo search compares a query's
words with: new and renamed items add their words as they are saved; `rebuild_search_words`
replaces the list after an import or bulk SQL."""

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from portal.catalog.models import Item, SearchWord, search_words
from portal.extensions import db


def rebuild_search_words() -> int:
    """Replace the word list with the words of the active items (after an import, or after
    items were written around the ORM, e.g. by COPY). Returns the number of words."""
    words: set[str] = set()
    rows = db.session.execute(
        select(Item.search_text).where(Item.is_active.is_(True)).execution_options(yield_per=5000)
    )
    for (text,) in rows:
        words |= search_words(text or "")
    db.session.execute(delete(SearchWord))
    ordered = sorted(words)
    for start in range(0, len(ordered), 5000):
        db.session.execute(
            insert(SearchWord), [{"word": word} for word in ordered[start : start + 5000]]
        )
    return len(words)


@event.listens_for(Session, "after_flush")
def _add_words_of_saved_items(session, _flush_context):
    """A new or renamed item's words join the word list in the same transaction."""
    texts = [
        obj.search_text
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Item) and obj.search_text
    ]
    words = set().union(*(search_words(text) for text in texts)) if texts else set()
    if not words:
        return
    connection = session.connection()
    listed, known = sorted(words), set()
    for start in range(0, len(listed), 900):  # SQLite's bound-parameter limit
        chunk = listed[start : start + 900]
        known.update(connection.scalars(select(SearchWord.word).where(SearchWord.word.in_(chunk))))
    missing = [word for word in listed if word not in known]
    if missing:
        connection.execute(insert(SearchWord), [{"word": word} for word in missing])
