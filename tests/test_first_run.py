"""First run on a laptop: mail links follow the served port, the logs are plain and single."""

import logging
import subprocess
import sys
from pathlib import Path

from portal.config import load_config
from portal.logging_setup import DevServerFilter


def test_mail_links_follow_the_served_port(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5101")
    assert load_config(str(tmp_path))["PORTAL_BASE_URL"] == "http://127.0.0.1:5101"


def test_explicit_base_url_wins_over_the_port(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example")
    assert load_config(str(tmp_path))["PORTAL_BASE_URL"] == "https://portal.example"


def test_make_run_passes_the_port_to_the_portal():
    dry_run = subprocess.run(
        ["make", "-n", "-p", "run", "PORT=5101"], capture_output=True, text=True, check=False
    ).stdout
    assert "export PORT" in Path("Makefile").read_text()
    assert "--port 5101" in dry_run


def _werkzeug_record(msg, *args):
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)


def test_dev_server_request_line_is_dropped_and_colours_are_stripped():
    keep = DevServerFilter()
    request_line = _werkzeug_record(
        "%s", '127.0.0.1 - - [02/Dec/2026 20:10:00] "GET / HTTP/1.1" \x1b[32m200\x1b[0m -'
    )
    assert keep.filter(request_line) is False
    banner = _werkzeug_record("%s", "\x1b[33mPress CTRL+C to quit\x1b[0m")
    assert keep.filter(banner) is True
    assert banner.getMessage() == "Press CTRL+C to quit"  # the escape codes removed


def test_one_access_line_per_request_in_the_dev_server(tmp_path):
    """A real `flask run`: each request is logged once, without escape codes."""
    script = (
        "import logging, threading, urllib.request, time\n"
        "from werkzeug.serving import make_server\n"
        "from portal import create_app\n"
        "app = create_app({'TESTING': False})\n"
        "server = make_server('127.0.0.1', 0, app)\n"
        "threading.Thread(target=server.serve_forever, daemon=True).start()\n"
        "urllib.request.urlopen(f'http://127.0.0.1:{server.port}/healthz').read()\n"
        "time.sleep(0.2)\n"
        "server.shutdown()\n"
    )
    env = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    log = done.stdout + done.stderr
    assert log.count("/healthz") == 1, log
    access_line = next(line for line in log.splitlines() if "/healthz" in line)
    assert access_line.isprintable(), access_line  # no escape code (\x1b) in it
