"""Production server settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be changed through an environment variable (PORTAL_WEB_*), listed in
docs/OPERATIONS.md ("The web server"). The defaults suit the portal behind nginx on the same
machine.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    # Two sync workers per core: a request spends part of its time waiting on PostgreSQL, and
    # 4 workers on 2 cores measured best (docs/OPERATIONS.md). Capped: each worker holds its
    # own database connection and ~150 MB of memory.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, min(2 * (cores or 1), 16))


# Where to listen: one address or several, comma-separated (host:port or unix:/path).
bind = [
    address.strip()
    for address in os.environ.get("PORTAL_WEB_BIND", "127.0.0.1:8000").split(",")
    if address.strip()
]
workers = _int("PORTAL_WEB_WORKERS", _default_workers())
threads = _int("PORTAL_WEB_THREADS", 1)  # more than 1 makes them gthread workers
worker_class = "gthread" if threads > 1 else "sync"

# A request running longer than this is killed with its worker (statements are made by the
# background worker, never in a request; the longest requests are uploads and the streamed
# price list, a few seconds).
timeout = _int("PORTAL_WEB_TIMEOUT", 60)
# On restart or shutdown, requests in progress get this long to finish.
graceful_timeout = _int("PORTAL_WEB_GRACEFUL_TIMEOUT", 30)
# Idle keep-alive connections (gthread workers only: sync workers close after each answer).
keepalive = _int("PORTAL_WEB_KEEPALIVE", 5)

# Each worker is replaced after this many requests (plus up to the jitter, so that they are
# not all replaced at once): whatever a worker's memory grew to is given back.
max_requests = _int("PORTAL_WEB_MAX_REQUESTS", 2000)
max_requests_jitter = _int("PORTAL_WEB_MAX_REQUESTS_JITTER", 200)

# The workers' heartbeat files: in memory, so a slow disk cannot make the master kill them.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a tmpfs, for gunicorn's heartbeat files only
worker_tmp_dir = os.environ.get("PORTAL_WEB_TMP_DIR") or (
    SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK) else None
)

# Which front-ends may tell the portal the request came over HTTPS (X-Forwarded-Proto and the
# like): only the reverse proxy on this machine, unless told otherwise. Never "*" while the
# port can be reached from anywhere but the proxy.
forwarded_allow_ips = os.environ.get("PORTAL_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Requests larger than these are refused by gunicorn (400) before the portal sees them.
limit_request_line = _int("PORTAL_WEB_LIMIT_REQUEST_LINE", 4094)  # method + URL + version
limit_request_fields = _int("PORTAL_WEB_LIMIT_REQUEST_FIELDS", 64)  # header count
limit_request_field_size = _int("PORTAL_WEB_LIMIT_REQUEST_FIELD_SIZE", 8190)  # one header

# The portal writes its own access line per request (JSON in production, with the request id
# and the user). gunicorn's own access log is off unless PORTAL_WEB_ACCESS_LOG names a file
# (or "-" for standard output); its lines then carry the duration and the request id too.
accesslog = os.environ.get("PORTAL_WEB_ACCESS_LOG") or None
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms '
    "request_id=%({x-request-id}o)s"
)
errorlog = "-"
loglevel = os.environ.get("PORTAL_WEB_LOG_LEVEL", "info")

# gunicorn 25+ opens a control socket in the home directory by default; one machine may run
# several portals (and test runs), so it is off unless a path is given.
control_socket = os.environ.get("PORTAL_WEB_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket


def post_worker_init(worker):
    """Each new worker writes one small PDF before it serves (PORTAL_WEB_WARM_PDF=0: not):
    WeasyPrint's start-up (fontconfig, Pango, the fonts; ~1 s on a busy machine) is then paid
    here, not by the first person downloading a document from this worker."""
    if os.environ.get("PORTAL_WEB_WARM_PDF", "1") == "0":
        return
    if getattr(worker.wsgi, "import_name", None) != "portal":
        return  # not the portal (bench/bare_app.py's yardsticks): no PDF templates, no PDFs
    try:
        from portal.reports.pdf import warm_up

        seconds = warm_up(worker.wsgi)
        worker.log.info("PDF rendering warmed up in %.2f s", seconds)
    except Exception:  # noqa: BLE001 - a worker that cannot warm up still serves
        worker.log.exception("PDF warm-up failed; the first PDF of this worker pays it")
