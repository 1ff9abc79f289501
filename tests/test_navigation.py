"""The side menu marks one entry as the current page: the one the address belongs to."""

import re

from portal.navigation import current_url
from portal.organisations.models import ALL_POWERS
from tests.factories import login, make_user


class Entry:
    def __init__(self, url):
        self.url = url


def test_the_longest_entry_the_path_starts_with_is_current():
    entries = [Entry("/settlements/"), Entry("/settlements/documents"), Entry("/orders/")]
    assert current_url(entries, "/settlements/documents") == "/settlements/documents"
    assert current_url(entries, "/settlements/documents/5/upd.pdf") == "/settlements/documents"
    assert current_url(entries, "/settlements/") == "/settlements/"
    assert current_url(entries, "/catalog/") is None


def test_the_primary_documents_page_marks_only_its_own_entry(app, gas_org):
    client = app.test_client()
    login(client, make_user(gas_org, ALL_POWERS, login="navgas"))
    page = client.get("/settlements/documents").get_data(as_text=True)
    current = re.findall(r'<a class="nav-link[^"]*active"[^>]*href="([^"]+)"', page)
    assert current == ["/settlements/documents"]
    assert page.count('aria-current="page"') == 1
