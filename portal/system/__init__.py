"""Operational endpoints: health check for load balancers and monitoring."""

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
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    queue = current_app.extensions.get("statements_queue")
    if queue is not None:
        try:
            checks["queue_pending"] = queue.huey.pending_count()  # reaches SQLite or Redis
            checks["queue"] = "ok"
        except Exception:  # noqa: BLE001 - any storage failure means the queue is unavailable
            current_app.logger.exception("health check: queue unavailable")
            checks["queue"] = "unavailable"
    healthy = all(value == "ok" for key, value in checks.items() if key in ("database", "queue"))
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (
        200 if healthy else 503
    )
