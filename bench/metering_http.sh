#!/bin/sh
# One HTTP run of the metering load: start gunicorn, run bench/metering_load.py, stop gunicorn.
# Meant to be run under the shared benchmark lock, e.g.
#   flock /tmp/bench.lock bench/metering_http.sh --customers 600 --clients 32 --processes 4
# Server settings from the environment: WORKERS (4), WORKER_CLASS (sync), THREADS (1),
# GUNICORN_OPTIONS (more options),
# PORT (8470); PORTAL_DATABASE_URL must name the benchmark database.
set -eu
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-4}
WORKER_CLASS=${WORKER_CLASS:-sync}
THREADS=${THREADS:-1}
PORT=${PORT:-8470}
export FLASK_APP=wsgi.py PORTAL_RATELIMIT_LOGIN="100000 per minute"
echo "$(date -u '+%F %T') UTC; load average $(cut -d' ' -f1-3 /proc/loadavg);" \
    "gunicorn -w $WORKERS -k $WORKER_CLASS --threads $THREADS; git $(git rev-parse --short HEAD)"
log=/tmp/metering_http_gunicorn.$$.log  # the app's log lines; kept only if the run failed
.venv/bin/gunicorn -w "$WORKERS" -k "$WORKER_CLASS" --threads "$THREADS" \
    -b "127.0.0.1:$PORT" --log-level warning ${GUNICORN_OPTIONS:-} wsgi:app 2>"$log" &
server=$!
trap 'status=$?; kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
      if [ "$status" = 0 ]; then rm -f "$log"; else echo "server log: $log"; fi' EXIT INT TERM
for _ in $(seq 100); do
    if .venv/bin/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
.venv/bin/python bench/metering_load.py --url "http://127.0.0.1:$PORT" --server-pid "$server" "$@"
