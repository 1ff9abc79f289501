"""Logs: one line per event; JSON lines in production (PORTAL_LOG_FORMAT=json) for collectors.

Every request gets an id (the incoming X-Request-ID or a new one), returned in the response
header and attached to every log line written while handling it, plus one access line.
"""

import json
import logging
import re
import time
import uuid

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect


def _logged_user_id():
    """The id of the user the request was made as, without reloading the user row.

    After a view's commit the user object is expired: `current_user.is_authenticated` (and
    `get_id()`) would SELECT it again just for this log line. The identity of the loaded
    object is known without a query (Flask-Login loads the user once per request and keeps it).
    """
    user = current_user._get_current_object()
    state = inspect(user, raiseerr=False)
    if state is None or state.identity is None:
        return None  # anonymous (Flask-Login's AnonymousUserMixin) or not a saved row
    return str(state.identity[0])


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# werkzeug formats the request line itself: '127.0.0.1 - - [date] "GET / HTTP/1.1" 200 -'
_WERKZEUG_REQUEST_LINE = re.compile(r'\] "[A-Z]+ \S* HTTP/[0-9.]+" ')


class DevServerFilter(logging.Filter):
    """The development server's own lines: no colour codes, and no second access line.

    Werkzeug writes each request once more (coloured) after our `portal.access` line; that one
    already has the method, path, status, duration and user, so werkzeug's copy is dropped.
    """

    def filter(self, record):
        message = _ANSI_ESCAPE.sub("", record.getMessage())
        if _WERKZEUG_REQUEST_LINE.search(message):
            return False
        record.msg = message
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "path", "status", "duration_ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, DevServerFilter) for f in werkzeug.filters):
        werkzeug.addFilter(DevServerFilter())
    for chatty in ("weasyprint", "fontTools"):  # per-document progress lines are noise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    access = logging.getLogger("portal.access")

    @app.before_request
    def start_request_log():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def write_access_log(response):
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        if request.endpoint not in ("static", "bootstrap.static"):
            started = g.get("request_started", time.perf_counter())
            access.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _logged_user_id(),
                },
            )
        return response
