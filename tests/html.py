"""Reading a page as a browser would, for assertions on what it shows (not on substrings)."""

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell, self._depth = [], None, None, 0

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._depth += 1
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._depth -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(page: str) -> list[list[str]]:
    """The body rows of every table of the page, each as its cells' texts."""
    parser = _Tables()
    parser.feed(page)
    return parser.rows


def shown(response) -> str:
    """The page of a 200 answer (an error page must not pass for an empty list)."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)
