"""Every page names the portal's own icon, served from the project (no CDN)."""

import re


def test_pages_name_a_favicon_served_locally(client):
    page = client.get("/login")
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page.text)
    assert link, "the login page names no icon"
    assert link.group(1).startswith("/static/")
    icon = client.get(link.group(1))
    try:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert icon.get_data().lstrip().startswith(b"<svg")
    finally:
        icon.close()  # a static file is streamed from disk
