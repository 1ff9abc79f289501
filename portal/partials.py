"""Partial page updates (htmx, served from static/vendor/htmx/).

A form enhanced with htmx posts to the same URL as without JavaScript; htmx adds the header
`HX-Request: true`, and the view then answers with a fragment (a table row, the cart's totals,
the top bar's cart count as an out-of-band swap) instead of a redirect. Without JavaScript the
same form posts normally and gets the redirect and the flashed message.

The CSRF token travels in the X-CSRFToken header (Flask-WTF's WTF_CSRF_HEADERS), read by
static/js/portal.js from the page's <meta name="csrf-token">. A refused request (400, 403,
404...) swaps nothing; portal.js shows a message asking to reload the page. A validation error
answers 422 with the fragment carrying the message (htmx is configured in base.html to swap a
422). A redirect that a view still answers to an htmx request (e.g. to the sign-in page after
the session ended) becomes a full-page navigation (HX-Redirect), never a login page swapped
into a table row.
"""

from flask import Flask, render_template, request


def is_htmx() -> bool:
    """Is this request a partial update asked by htmx (and not a history restore)?"""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def top_bar_counts() -> str:
    """The top bar's icon links with their counts (the cart), for an out-of-band swap."""
    return render_template("partials/top_links.html", oob=True)


def _redirects_become_navigation(response):
    if is_htmx() and response.status_code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location")
        response.status_code = 204  # nothing to swap; htmx follows HX-Redirect
        response.headers["HX-Redirect"] = location
        response.headers.pop("Location", None)
        response.set_data(b"")
    if request.endpoint not in (None, "static", "bootstrap.static"):
        # A fragment must never be shown by the browser's cache for the page at that address.
        response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_redirects_become_navigation)
