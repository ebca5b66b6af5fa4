"""Shared fixtures.

Integration tests talk to real PostgreSQL, Redis and an S3 API server. On a
developer machine without those services they skip; under CI (``CI=true``) a
missing service is a failure, never a skip, so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_services", "tests.fixtures_s3"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT.parent / "shared" / "xray-samples"


def under_ci() -> bool:
    """CI sets CI=true; then unavailable services fail the run instead of skipping."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    """Skip (developer machine) or fail (CI) when ``what`` is unavailable."""
    if available:
        return
    if under_ci():
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shared real X-ray samples; tests that need them skip when absent."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip("../shared/xray-samples is not present")
    return SAMPLES_DIR
