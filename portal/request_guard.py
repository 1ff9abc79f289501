"""Malformed requests get a 400 with a clear message, never a 500.

PostgreSQL refuses a NUL character in any text it is sent, and SQLite (and PostgreSQL's
bigint) cannot hold an integer past 2**63 - 1: a `?q=%00` or `?page=99999999999999999999`
would reach the database as a 500. The gate below refuses both before any view runs; the
helpers read the query-string numbers views use within the range the database can hold.
"""

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

# Past the last page of any list: a page further than this is a typo or a probe.
MAX_PAGE = 10_000
# Every id column is a 64-bit integer at most.
MAX_ID = 2**63 - 1


class MalformedRequest(BadRequest):
    """A 400 whose page tells the user what was wrong (errors/400.html shows the message)."""

    def __init__(self, message):
        super().__init__(description=str(message))
        self.portal_message = message


def _has_nul(values) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values
    )


def refuse_malformed_requests() -> None:
    """before_request: no NUL in the query string or form fields; a page number in range."""
    if _has_nul(request.args) or (request.form and _has_nul(request.form)):
        raise MalformedRequest(_l("The request contains a NUL character, which is not allowed."))
    page = request.args.get("page", "")
    if page != "" and page_number_or_none(page) is None:
        raise MalformedRequest(
            _l("The page number must be a whole number from 1 to %(max)s.", max=MAX_PAGE)
        )


def page_number_or_none(text: str) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_PAGE else None


def int_arg(name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """A whole-number query argument within [minimum, maximum], or None (absent or not one)."""
    text = (request.args.get(name) or "").strip()
    if text.startswith("-"):
        sign, text = -1, text[1:]
    else:
        sign = 1
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = sign * int(text)
    return number if minimum <= number <= maximum else None


def text_arg(name: str, *, limit: int = 200) -> str:
    """A free-text query argument (a search), stripped and cut to `limit` characters."""
    return (request.args.get(name) or "").strip()[:limit]
