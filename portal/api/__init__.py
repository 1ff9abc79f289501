"""The machine API under /api/v1 (flask-smorest: marshmallow schemas, OpenAPI 3.1).

Every route is declared with `portal.api.auth.requires(power)`; every error is RFC 9457
problem+json (portal.api.problems); the cookie session is neither read nor written for
/api, so only `Authorization: Bearer <key>` authenticates; CSRF does not apply there.
To add a resource: a module in portal/api/ with a flask-smorest `Blueprint` named
"api_<name>" under url_prefix "/api/v1/<name>", listed in RESOURCE_MODULES below.
"""

import http
import importlib
import time

from flask import Blueprint, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_smorest import Api as SmorestApi
from flask_smorest.exceptions import NotModified
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from portal.api import problems
from portal.api.problems import PROBLEM_JSON, Problem, is_api_request
from portal.extensions import csrf, limiter
from portal.navigation import MenuItem, register_menu
from portal.organisations.models import Power

# The portal pages: the keys of an organisation (under /organisation) and the reference.
bp = Blueprint("api_keys", __name__)

register_menu(
    MenuItem(
        _l("API keys"),
        "api_keys.list_keys",
        power=Power.MANAGE_USERS,
        order=915,
        in_user_menu=True,
    )
)
register_menu(
    MenuItem(
        _l("Webhooks"),
        "api_keys.list_webhooks",
        power=Power.MANAGE_USERS,
        order=916,
        in_user_menu=True,
    )
)

RESOURCE_MODULES = ["portal.api.me", "portal.api.catalog"]
RESOURCE_MODULES += ["portal.api.orders"]  # orders (Idempotency-Key, dry run, cancel)
# Documents, readings and telemetry, settlements (appended: the order of the others is kept).
RESOURCE_MODULES += [
    "portal.api.documents",
    "portal.api.readings",
    "portal.api.telemetry",
    "portal.api.settlements",
]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Api(SmorestApi):
    """flask-smorest, with problem+json error responses in the document and no handlers of
    its own (portal.api.problems answers every error under /api)."""

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ApiAwareSessionInterface(SecureCookieSessionInterface):
    """No cookie session under /api: a request there starts with an empty session that is
    never saved, so a browser's cookies cannot act through the API (nor CSRF matter)."""

    def open_session(self, app, request_):
        if is_api_request():
            return self.session_class()
        return super().open_session(app, request_)

    def save_session(self, app, session, response):
        if is_api_request():
            return
        super().save_session(app, session, response)


def register(app) -> None:
    """Attach the API to the application (called by create_app)."""
    from portal.api.schemas import DecimalString, ProblemSchema

    app.config.setdefault("API_TITLE", "Supplier portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # served by portal.api.views instead
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "The JSON API of the supplier portal. Authenticate with "
                "`Authorization: Bearer <key>`; keys are created by an organisation "
                "administrator on /organisation/api-keys. Errors are RFC 9457 problem "
                "documents (application/problem+json).",
            },
            "servers": [{"url": "/"}],
            "components": {
                "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"apiKey": []}],
        },
    )
    app.session_interface = ApiAwareSessionInterface()
    api = Api()  # one per application: its document lists that application's routes
    api.ERROR_SCHEMA = ProblemSchema
    api.init_app(app)
    app.extensions["portal_api"] = api
    api.register_field(DecimalString, "string", "decimal")

    import portal.api.views  # noqa: F401 - attaches the pages to bp
    import portal.api.webhook_views  # noqa: F401 - the webhooks page (portal.api.webhooks)

    app.register_blueprint(bp)
    # One bucket per key across every resource (Redis in production: RATELIMIT_STORAGE_URI).
    shared = limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_limit_key)
    for name in RESOURCE_MODULES:
        module = importlib.import_module(name)
        shared(module.blp)
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    csrf.exempt(portal.api.views.api_docs)
    app.register_blueprint(portal.api.views.api_docs)

    from portal.api import webhooks

    webhooks.install(app)  # deliveries queued after commit, sent by the worker
    app.before_request(_api_request_checks)
    app.after_request(_rate_limit_headers)
    for code in (401, 406, 409, 415, 422, 503):
        app.register_error_handler(code, _problem_or_default)
    app.register_error_handler(Problem, problems.from_exception)  # its code is per instance
    app.register_error_handler(NotModified, _not_modified)


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _rate_limit_key() -> str:
    from portal.api.auth import rate_limit_key

    return rate_limit_key()


def _api_request_checks():
    """Before routing's view: the body limit and JSON-only bodies under /api."""
    if not is_api_request():
        return None
    limit = current_app.config["API_MAX_BODY_BYTES"]
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, problems.DETAILS[413])
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if request.method in BODY_METHODS and has_body and not request.is_json:
        raise Problem(
            415,
            _l("Send the body as JSON with the header «Content-Type: application/json»."),
        )
    return None


def _rate_limit_headers(response):
    """The IETF draft's RateLimit-* headers (seconds to the window's end) on API answers."""
    if not is_api_request():
        return response
    current = limiter.current_limit
    if current is not None:
        reset = max(0, int(current.reset_at - time.time()))
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(reset)
        window = current.limit.get_expiry()
        response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={window}"
        if current.breached:
            response.headers["Retry-After"] = str(max(1, reset))
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        response.headers.pop(name, None)
    return response


def _problem_or_default(error):
    if is_api_request():
        return problems.from_exception(error)
    return error if isinstance(error, HTTPException) else error


def _not_modified(_error):
    response = current_app.response_class(status=304)
    wanted = request.headers.get("If-None-Match", "")
    if wanted and "," not in wanted:
        response.headers["ETag"] = wanted.strip()
    return response
