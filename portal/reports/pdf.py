"""HTML templates to PDF with WeasyPrint.

The URL fetcher only serves files from the project's static/ folder (fonts, CSS, logo): a
template can never make WeasyPrint read a local file or call an external address.
"""

import mimetypes
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML

STATIC_SCHEME = "portal-static:"


class RefusedURL(ValueError):
    pass


def _static_root() -> Path:
    return Path(current_app.static_folder).resolve()


def make_url_fetcher(static_root: Path):
    def fetch(url: str, *args, **kwargs):
        if not url.startswith(STATIC_SCHEME):
            raise RefusedURL(f"PDF rendering refuses to fetch {url!r}")
        path = (static_root / url[len(STATIC_SCHEME) :].lstrip("/")).resolve()
        if static_root not in path.parents or not path.is_file():
            raise RefusedURL(f"PDF rendering refuses to fetch {url!r}")
        return {
            "string": path.read_bytes(),
            "mime_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        }

    return fetch


def html_to_pdf(html: str) -> bytes:
    return HTML(
        string=html, url_fetcher=make_url_fetcher(_static_root()), base_url=STATIC_SCHEME
    ).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template (usually extending reports/_pdf_base.html) to PDF bytes."""
    return html_to_pdf(render_template(template, **context))
