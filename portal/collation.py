"""Russian alphabetical order for names: «Азитромицин» before «АЦЦ», «ё» sorted with «е».

PostgreSQL compares with the ICU collation `ru_icu` (provider icu, locale ru-RU), created by
the migration 0026_search_forgiving (and before `create_all` for tests). SQLite has no ICU:
every SQLite connection gets a collation of the same name, backed by `russian_sort_key`, so
`ORDER BY name COLLATE ru_icu` is written once for both.

`russian_sort_key` follows ICU's Russian order at its first levels: letters compared without
case, «ё» as «е», spaces and punctuation before digits, digits before letters, Cyrillic
before Latin; then «е» before «ё», then lower case before upper case. It does not ignore
punctuation or weigh accents the way ICU does; for catalogue names the two agree.
"""

import functools
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

COLLATION = "ru_icu"
CREATE_COLLATION = f"CREATE COLLATION IF NOT EXISTS {COLLATION} (provider = icu, locale = 'ru-RU')"


def _rank(char: str) -> tuple[int, str]:
    if char.isdigit():
        return 1, char
    if "а" <= char <= "я":
        return 2, char
    if char.isalpha():
        return (3, char) if char.isascii() else (4, char)
    return 0, char  # spaces and punctuation


@functools.lru_cache(maxsize=65536)
def russian_sort_key(text: str) -> tuple:
    folded = text.casefold()
    primary = tuple(_rank(char) for char in folded.replace("ё", "е"))
    return primary, folded, text.swapcase()


def _compare(left: str, right: str) -> int:
    left_key, right_key = russian_sort_key(left), russian_sort_key(right)
    return (left_key > right_key) - (left_key < right_key)


def ordered(column):
    """The column in Russian alphabetical order (an ORDER BY term, on either database)."""
    return column.collate(COLLATION)


@event.listens_for(Engine, "connect")
def _register_on_sqlite(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_collation(COLLATION, _compare)
