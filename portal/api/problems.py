"""RFC 9457 problem details: every error under /api is `application/problem+json`.

{"type": ".../api/v1/docs#problem-<slug>", "title": ..., "status": ..., "detail": ...,
 "instance": "/api/v1/...", "errors": [{"location": "query", "field": "limit",
 "message": "..."}]}
"""

import json

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"

# The problem types (their anchors are explained on the reference page and in docs/API.md).
TITLES = {
    400: ("bad-request", _l("The request is malformed")),
    401: ("unauthorized", _l("A valid API key is required")),
    403: ("forbidden", _l("The key may not do this")),
    404: ("not-found", _l("Not found")),
    405: ("method-not-allowed", _l("Method not allowed")),
    406: ("not-acceptable", _l("Not acceptable")),
    409: ("conflict", _l("Conflict")),
    413: ("too-large", _l("The request body is too large")),
    415: ("unsupported-media-type", _l("The body must be JSON")),
    422: ("validation", _l("The request has invalid fields")),
    429: ("rate-limited", _l("Too many requests")),
    500: ("server-error", _l("Internal error")),
    503: ("unavailable", _l("Temporarily unavailable")),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


class Problem(HTTPException):
    """Raise to answer with a problem document (status, a human detail, per-field errors)."""

    def __init__(self, status, detail=None, *, errors=None, slug=None, title=None, headers=None):
        super().__init__(description=str(detail) if detail is not None else None)
        self.code = status
        self.errors = errors
        self.slug = slug
        self.title = title
        self.extra_headers = headers or {}


def problem_type(slug: str) -> str:
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return f"{base}/api/v1/docs#problem-{slug}"


def problem_response(status, detail=None, *, errors=None, slug=None, title=None, headers=None):
    default_slug, default_title = TITLES.get(status, ("error", _l("Error")))
    body = {
        "type": problem_type(slug or default_slug),
        "title": str(title or default_title),
        "status": status,
        "detail": str(detail) if detail else str(title or default_title),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


DETAILS = {
    404: _l("There is nothing at this address in the API."),
    405: _l("This address does not accept the %(method)s method."),
    413: _l("The request body is larger than the API accepts."),
    429: _l("The key has made too many requests; wait and repeat."),
    500: _l("The request could not be completed; it has been logged. Try again later."),
}


def from_exception(error) -> object:
    """The problem response for an HTTP error (or any exception: a 500) under /api."""
    if isinstance(error, Problem):
        return problem_response(
            error.code,
            error.description,
            errors=error.errors,
            slug=error.slug,
            title=error.title,
            headers=error.extra_headers,
        )
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    headers = {}
    errors = None
    detail = None
    if status == 422:
        errors = validation_errors(getattr(error, "data", {}).get("messages", {}))
        detail = _("Correct the fields listed in «errors».")
    elif status == 405:
        detail = str(DETAILS[405]) % {"method": request.method}
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    elif status == 429:
        detail = str(DETAILS[429])
        limit = getattr(error, "limit", None)
        if limit is not None:
            detail = f"{detail} ({limit.limit})"
    elif status in DETAILS:
        detail = str(DETAILS[status])
    elif isinstance(error, HTTPException):
        detail = getattr(error, "portal_message", None) or error.description
        if status == 400 and getattr(error, "data", None):
            errors = validation_errors(error.data.get("messages", {}))
    return problem_response(status, detail, errors=errors, headers=headers)


def validation_errors(messages) -> list[dict]:
    """marshmallow/webargs messages {location: {field: [msg] | {index: ...}}} as a flat list
    [{"location": "json", "field": "codes.3", "message": "..."}], one entry per message."""
    found = []

    def walk(location, path, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(location, [*path, str(key)], inner)
        elif isinstance(value, list | tuple):
            if all(isinstance(v, str) for v in value):
                for message in value:
                    found.append(
                        {"location": location, "field": ".".join(path), "message": message}
                    )
            else:
                for index, inner in enumerate(value):
                    walk(location, [*path, str(index)], inner)
        else:
            found.append({"location": location, "field": ".".join(path), "message": str(value)})

    for location, fields in (messages or {}).items():
        walk(location, [], fields)
    return found
