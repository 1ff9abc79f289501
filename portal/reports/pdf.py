"""HTML templates to PDF with WeasyPrint.

The URL fetcher only serves files from the project's static/ folder (fonts, CSS, logo): a
template can never make WeasyPrint read a local file or call an external address.
"""

import mimetypes
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.errors import UserError

STATIC_SCHEME = "portal-static:"


class StaticOnlyFetcher(URLFetcher):
    """Serves portal-static: URLs from one folder and refuses everything else."""

    def __init__(self, static_root: Path):
        super().__init__(allowed_protocols=())
        self.static_root = Path(static_root).resolve()

    def fetch(self, url, headers=None):
        if not url.startswith(STATIC_SCHEME):
            raise UserError(f"PDF rendering refuses to fetch {url!r}")
        path = (self.static_root / url.removeprefix(STATIC_SCHEME).lstrip("/")).resolve()
        if self.static_root not in path.parents or not path.is_file():
            raise UserError(f"PDF rendering refuses to fetch {url!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def make_url_fetcher(static_root: Path) -> StaticOnlyFetcher:
    return StaticOnlyFetcher(static_root)


def html_to_pdf(html: str) -> bytes:
    fetcher = make_url_fetcher(Path(current_app.static_folder))
    return HTML(string=html, url_fetcher=fetcher, base_url=STATIC_SCHEME).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template (usually extending reports/_pdf_base.html) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))


WARM_UP_PAGE = (
    '{% extends "reports/_pdf_base.html" %}{% block body %}<h1>Прогрев · Warm-up</h1>'
    '<table><thead><tr><th>№</th><th>Наименование</th></tr></thead><tbody><tr><td class="num">1'
    "</td><td><b>Товар</b> 10 мг № 20</td></tr></tbody></table>{% endblock %}"
)


def warm_up(app) -> float:
    """Lay out and write one small PDF with the portal's fonts and styles, so that a new
    worker pays WeasyPrint's start-up (its modules, fontconfig, Pango, the fonts) before it
    serves, not in the first document request (gunicorn.conf.py calls it in each worker).
    Returns the seconds it took."""
    import time

    from flask import render_template_string

    started = time.perf_counter()
    with app.test_request_context("/"):
        html_to_pdf(render_template_string(WARM_UP_PAGE))
    return time.perf_counter() - started
