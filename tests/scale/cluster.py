"""Two portal nodes behind HAProxy, two queue workers, PgBouncer (transaction pooling), Redis
and an S3 endpoint (moto's server): the production layout of docs/OPERATIONS.md, in a temp dir.

Every process is started here and stopped at the end; none is a system service.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCALE_REDIS_URL = os.environ.get("PORTAL_SCALE_REDIS_URL", "redis://127.0.0.1:6379/5")
SECRET = "multi-node-test-secret-key"


def need(reason: str):
    """A missing binary or service fails the run in CI and skips it elsewhere."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path is None and (BIN / name).exists():
        path = str(BIN / name)
    if path is None:
        need(f"{name} is not installed (.ci/run installs it)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pgbouncer_version(path: str) -> str:
    output = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"PgBouncer (\d+\.\d+)", output)
    return match.group(1) if match else ""


def wait_for(check, what: str, timeout: float = 45, process=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{what} exited:\n" + (log.read_text() if log else ""))
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up:\n" + (log.read_text()[-5000:] if log else ""))


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
        return response.status == 200


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, number):
        os.killpg(self.popen.pid, number)

    def stop(self):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(timeout=10)


@dataclass
class Cluster:
    workdir: Path
    balancer_url: str = ""
    node_urls: dict = field(default_factory=dict)
    processes: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    def start(self, name, argv, env=None, cwd=ROOT) -> Process:
        log = self.workdir / f"{name}.log"
        with open(log, "w") as output:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env or os.environ.copy(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        process = Process(name, popen, log)
        self.processes[name] = process
        return process

    def stop(self):
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.forget_redis_keys()

    def forget_redis_keys(self):
        """The run's queue, cache and limit keys (its own names) leave the shared Redis db."""
        import redis

        names = [
            self.env.get("PORTAL_STATEMENTS_QUEUE_NAME"),
            self.env.get("PORTAL_CACHE_KEY_PREFIX"),
        ]
        try:
            client = redis.Redis.from_url(SCALE_REDIS_URL, socket_connect_timeout=2)
            for name in filter(None, names):
                for key in client.scan_iter(f"*{name.rstrip(':')}*"):
                    client.delete(key)
            client.close()
        except redis.RedisError:
            pass


def start_moto(cluster: Cluster) -> str:
    server = BIN / "moto_server"
    if not server.exists():
        need("moto's server is not installed (the dev extra: moto[server])")
    port = free_port()
    process = cluster.start("s3", [str(server), "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}"
    wait_for(
        lambda: http_ok(url + "/moto-api/"), "the S3 endpoint", process=process, log=process.log
    )
    return url


def start_pgbouncer(cluster: Cluster, database_url: str) -> tuple[str, str]:
    """PgBouncer in transaction pooling mode in front of the test database; (url, version)."""
    from sqlalchemy.engine import make_url

    path = binary("pgbouncer")
    target = make_url(database_url)
    port = free_port()
    config = cluster.workdir / "pgbouncer.ini"
    server = f"host={target.host or '127.0.0.1'} port={target.port or 5432} user={target.username}"
    config.write_text(
        f"""[databases]
{target.database} = {server}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 8
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
"""
        # PgBouncer refuses to run as root; started by root it changes to this user.
        + ("user = nobody\n" if os.geteuid() == 0 else "")
    )
    process = cluster.start("pgbouncer", [path, str(config)])

    def listening():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_for(listening, "PgBouncer", process=process, log=process.log)
    url = target.set(port=port, host="127.0.0.1").render_as_string(hide_password=False)
    return url, pgbouncer_version(path)


def node_env(cluster: Cluster, name: str, base: dict) -> dict:
    home = cluster.workdir / name
    instance = home / "instance"
    instance.mkdir(parents=True)
    return {
        **base,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_UPLOAD_DIR": str(home / "uploads"),
        "PORTAL_REPORT_DIR": str(home / "reports"),
        "PORTAL_MAIL_OUTBOX": str(home / "outbox"),
    }


def start_node(cluster: Cluster, name: str, env: dict) -> str:
    """Start a gunicorn node (wait_for_node waits until it answers)."""
    port = free_port()
    env = {**env, "PORTAL_WEB_BIND": f"127.0.0.1:{port}"}
    cluster.start(name, [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], env)
    url = f"http://127.0.0.1:{port}"
    cluster.node_urls[name] = url
    return url


def wait_for_node(cluster: Cluster, name: str) -> None:
    process = cluster.processes[name]
    url = cluster.node_urls[name]
    wait_for(lambda: http_ok(url + "/healthz"), f"node {name}", 90, process, process.log)


def start_haproxy(cluster: Cluster, port: int) -> str:
    path = binary("haproxy")
    servers = "\n".join(
        f"    server {name} {url.split('//')[1]} check" for name, url in cluster.node_urls.items()
    )
    config = cluster.workdir / "haproxy.cfg"
    config.write_text(
        f"""global
    maxconn 256
    stats socket {cluster.workdir / "haproxy.sock"} mode 600 level user
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A busy node answers its health check late, not never: only 3 missed checks take it out.
    timeout check 5s
    # Requests beyond a node's maxconn wait here (not in its accept queue) for a free worker.
    timeout queue 20s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    option http-buffer-request
frontend portal
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 1s fall 3 rise 2 maxconn 4
{servers}
"""
    )
    process = cluster.start("haproxy", [path, "-db", "-f", str(config)])
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(url + "/healthz"), "HAProxy", process=process, log=process.log)
    cluster.balancer_url = url
    return url


def start(workdir: Path, database_url: str) -> Cluster:
    import boto3
    import redis

    try:
        redis.Redis.from_url(SCALE_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        need(f"Redis at {SCALE_REDIS_URL} unreachable: {error}")
    cluster = Cluster(workdir)
    try:
        s3_url = start_moto(cluster)
        bucket = f"portal-{uuid.uuid4().hex[:8]}"
        credentials = {
            "AWS_ACCESS_KEY_ID": "multinode",
            "AWS_SECRET_ACCESS_KEY": "multinode-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        boto3.client(
            "s3",
            endpoint_url=s3_url,
            **{
                "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
                "region_name": credentials["AWS_DEFAULT_REGION"],
            },
        ).create_bucket(Bucket=bucket)
        pooled_url, version = start_pgbouncer(cluster, database_url)
        run = uuid.uuid4().hex[:8]
        base = {
            **os.environ,
            **credentials,
            "FLASK_APP": "wsgi.py",
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_HTTPS": "0",
            "PORTAL_DATABASE_URL": pooled_url,
            "PORTAL_DB_PGBOUNCER": version,
            "PORTAL_DB_PREPARE": "auto",
            "PORTAL_REDIS_URL": SCALE_REDIS_URL,
            "PORTAL_STATEMENTS_QUEUE_NAME": f"portal-multinode-{run}",
            "PORTAL_CACHE_KEY_PREFIX": f"portal-multinode-{run}:",
            "PORTAL_STORAGE_URL": f"s3://{bucket}/portal",
            "PORTAL_S3_ENDPOINT_URL": s3_url,
            "PORTAL_CONSENT_CACHE_SECONDS": "0",
            "PORTAL_OFFER_CACHE_SECONDS": "0",
            "PORTAL_API_RATE_LIMIT": "6 per minute",
            "PORTAL_WEB_WORKERS": "1",
            "PORTAL_WEB_THREADS": "2",
            "PORTAL_WEB_GRACEFUL_TIMEOUT": "10",
            "PORTAL_QUEUE_DEFER_SECONDS": "0.5",
        }
        for name in ("PORTAL_SMTP_HOST", "PORTAL_LOG_FORMAT", "PORTAL_STATEMENTS_QUEUE_PATH"):
            base.pop(name, None)
        balancer_port = free_port()
        base["PORTAL_BASE_URL"] = f"http://127.0.0.1:{balancer_port}"  # links in mail
        cluster.env = base
        for name in ("a", "b"):  # both start at once (start-up is mostly imports)
            start_node(cluster, name, node_env(cluster, name, base))
        for name in ("worker1", "worker2"):
            cluster.start(name, [str(BIN / "flask"), "worker"], node_env(cluster, name, base))
        for name in ("a", "b"):
            wait_for_node(cluster, name)
        start_haproxy(cluster, balancer_port)
        cluster.s3_url, cluster.bucket = s3_url, bucket
    except BaseException:
        cluster.stop()
        raise
    return cluster
