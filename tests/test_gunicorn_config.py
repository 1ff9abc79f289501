"""The committed production server settings (gunicorn.conf.py) as gunicorn reads them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings(**env) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_WEB_")}
    environment.pop("FORWARDED_ALLOW_IPS", None)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--print-config",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_defaults_trust_only_the_local_proxy_and_bound_every_request():
    config = settings()
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["forwarded_allow_ips"] == "['127.0.0.1']"  # not gunicorn's env-driven default
    assert 2 <= int(config["workers"]) <= 16
    assert config["worker_class"] == "sync"
    assert (config["timeout"], config["graceful_timeout"]) == ("60", "30")
    assert (config["max_requests"], config["max_requests_jitter"]) == ("2000", "200")
    assert config["limit_request_line"] == "4094"
    assert config["limit_request_fields"] == "64"
    assert config["control_socket_disable"] == "True"  # several portals may share a machine


def test_environment_variables_change_them():
    config = settings(
        PORTAL_WEB_BIND="127.0.0.1:9001,unix:/run/portal.sock",
        PORTAL_WEB_WORKERS="3",
        PORTAL_WEB_THREADS="4",
        PORTAL_WEB_TIMEOUT="90",
        PORTAL_WEB_FORWARDED_ALLOW_IPS="10.0.0.5,10.0.0.6",
        PORTAL_WEB_MAX_REQUESTS="500",
    )
    assert config["bind"] == "['127.0.0.1:9001', 'unix:/run/portal.sock']"
    assert config["workers"] == "3"
    assert (config["worker_class"], config["threads"]) == ("gthread", "4")
    assert config["timeout"] == "90"
    assert config["forwarded_allow_ips"] == "['10.0.0.5', '10.0.0.6']"
    assert config["max_requests"] == "500"
