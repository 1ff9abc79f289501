"""A real S3 endpoint for the tests: moto's standalone server in its own process.

`PORTAL_TEST_STORAGE=s3` runs the whole app fixture on it (tests/conftest.py); the file store
tests (tests/files/test_store.py) use it in every run. When the server cannot start the tests
that need it are skipped, except under CI=true, where that is a failure.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",  # noqa: S105 - moto accepts any
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoServer:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=30.0):
        executable = Path(sys.executable).parent / "moto_server"
        self.process = subprocess.Popen(  # noqa: S603 - our own test server
            [str(executable), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).close()  # noqa: S310
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not answer in time")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self):
        import boto3

        return boto3.session.Session(**_session_credentials()).client(
            "s3", endpoint_url=self.endpoint, region_name=CREDENTIALS["AWS_DEFAULT_REGION"]
        )

    def create_bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name


def _session_credentials():
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def start_or_skip() -> MotoServer:
    """Start the server; without it skip, or fail when CI=true."""
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)
    try:
        return MotoServer().start()
    except (OSError, RuntimeError) as error:
        message = f"the S3 test server (moto_server) cannot start: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI must run the S3 path)", pytrace=False)
        pytest.skip(message)


def s3_config(server: MotoServer, bucket: str, prefix: str = "portal") -> dict:
    return {
        "STORAGE_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT_URL": server.endpoint,
        "S3_REGION": CREDENTIALS["AWS_DEFAULT_REGION"],
    }
