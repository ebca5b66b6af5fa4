"""A real S3 API server for integration tests: moto in server mode, on loopback.

The server is a separate process speaking HTTP, so the S3 backend is exercised
through boto3's real network path (signing, multipart, pagination, presigned
URLs), not an in-process mock. Each test gets its own bucket.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from screening.storage import S3ObjectStore
from tests.conftest import free_port, port_open, require

S3_HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 30.0
TEST_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}


def _moto_command(port: int) -> list[str]:
    """``moto_server`` from the running interpreter's environment, else ``python -m moto.server``."""
    executable = Path(sys.executable).parent / "moto_server"
    if executable.is_file():
        return [str(executable), "-H", S3_HOST, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", S3_HOST, "-p", str(port)]


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if port_open(S3_HOST, port, timeout=0.2):
            return True
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of an S3 API server started for this test session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("s3-server") / "moto.log"
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(_moto_command(port), stdout=log, stderr=subprocess.STDOUT)
        except OSError:
            require(False, "S3 API server (moto_server)")
    try:
        if not _wait_until_listening(process, port):
            require(False, f"S3 API server (moto_server; log: {log_path})")
        yield f"http://{S3_HOST}:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def s3_client(s3_server: str) -> Any:
    """A plain boto3 client on the test server, for checks beneath the store's interface."""
    return boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id=TEST_CREDENTIALS["access_key"],
        aws_secret_access_key=TEST_CREDENTIALS["secret_key"],
        region_name="us-east-1",
    )


def _empty_and_remove(client: Any, bucket: str) -> None:
    """Free the server's memory; tests may leave many or large objects behind."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
        if objects:
            client.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_store(s3_server: str, s3_client: Any) -> Iterator[S3ObjectStore]:
    """An :class:`S3ObjectStore` on a fresh, uniquely named bucket of the session's server."""
    store = S3ObjectStore(f"test-{uuid.uuid4().hex[:16]}", endpoint_url=s3_server, **TEST_CREDENTIALS)
    store.ensure_bucket()
    yield store
    _empty_and_remove(s3_client, store.bucket)
