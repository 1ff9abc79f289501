"""Operational endpoints: health check for load balancers and monitoring.

`/healthz` answers 503 when the database does not answer, 200 otherwise: "ok", or "degraded"
with the failing check named when the statement queue (Redis in production) is unreachable.
"""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.security import access

bp = Blueprint("system", __name__)


@bp.route("/healthz")
@access.public
def healthz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:  # the session is closed at the end of the request
        checks["database"] = "unavailable"
    huey = current_app.extensions.get("job_queue")
    if huey is not None:
        try:
            checks["queue_pending"] = huey.pending_count()  # reaches SQLite or Redis
            checks["queue"] = "ok"
        except Exception:  # noqa: BLE001 - any storage failure means the queue is unavailable
            current_app.logger.exception("health check: queue unavailable")
            checks["queue"] = "unavailable"
    # Only the database is vital: without the queue (Redis) the portal works on, degraded
    # (statement requests are refused), and a load balancer must keep sending it traffic.
    if checks["database"] != "ok":
        return jsonify(status="unavailable", checks=checks), 503
    status = "ok" if checks.get("queue", "ok") == "ok" else "degraded"
    return jsonify(status=status, checks=checks), 200
