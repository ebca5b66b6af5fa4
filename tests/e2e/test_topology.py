"""The deployed topology, started as processes, driven over HTTP only as an API client would.

PostgreSQL and Redis are the machine's; the S3 API server runs on loopback; the
migration, web (gunicorn) and worker commands are the ones docker-compose runs
(worker/topology.py), each a separate process.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
import redis

from tests.conftest import free_port
from tests.factories import make_tiny_bundle, write_phantom_archive
from tests.fixtures_s3 import TEST_CREDENTIALS
from tests.processes import REPO_ROOT, Service, wait_for
from worker.topology import SERVICES, local_command, web_server

pytestmark = pytest.mark.integration

def _osteo(env: dict[str, str], *args: str) -> str:
    # PYTHONPATH passes through, so a checkout run with a shared environment migrates with its own code.
    inherited = {key: os.environ[key] for key in ("PYTHONPATH",) if key in os.environ}
    result = subprocess.run(local_command(["osteo", *args]), env={**inherited, **env}, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


class Client:
    """A minimal HTTP API client with a bearer token."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers={"Authorization": f"Bearer {self.token}", **(headers or {})})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()

    def json(self, path: str) -> dict:
        status, _, body = self.request("GET", path)
        assert status == 200
        return json.loads(body)


@pytest.fixture
def deployment(postgres_url, redis_url, s3_server, tmp_path, tmp_path_factory):
    broker = redis_url  # the database OSTEO_TEST_REDIS_URL names: parallel runs each name their own
    redis.Redis.from_url(broker).flushdb()
    bucket = f"e2e-{tmp_path.name[-12:].lower().replace('_', '-')}"
    port = free_port()
    env = {
        "PATH": str(Path(local_command(["osteo"])[0]).parent) + ":/usr/bin:/bin",
        "OSTEO_VAR_DIR": str(tmp_path / "var"),
        "OSTEO_DATABASE_URL": postgres_url,
        "OSTEO_REDIS_URL": broker,
        "OSTEO_STORAGE_BACKEND": "s3",
        "OSTEO_S3_ENDPOINT_URL": s3_server,
        "OSTEO_S3_BUCKET": bucket,
        "OSTEO_S3_ACCESS_KEY": TEST_CREDENTIALS["access_key"],
        "OSTEO_S3_SECRET_KEY": TEST_CREDENTIALS["secret_key"],
        "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")),
        "OSTEO_CHUNK_SIZE": "4",
        "OSTEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    _osteo(env, *SERVICES["migrate"][1:])  # osteo init: migrations + bucket
    services: list[Service] = []
    try:  # stop whatever started, even when start-up itself fails
        services.append(Service(local_command(web_server(port)), env, tmp_path / "web.log"))
        services.append(Service(local_command(SERVICES["worker"]), env, tmp_path / "worker.log"))
        services.append(Service(local_command(SERVICES["inference-cpu"]), env, tmp_path / "inference.log"))
        wait_for(lambda: _healthy(port), 90, "gunicorn to answer /healthz")
        yield env, f"http://127.0.0.1:{port}", bucket, services
    finally:
        for service in services:
            service.stop()
        redis.Redis.from_url(broker).flushdb()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:  # refused, reset or timed out while gunicorn boots
        return False


def test_upload_screen_report_and_summarise_through_http(deployment, tmp_path):
    env, base, bucket, services = deployment
    _osteo(env, "hospital", "add", "DH-E2E", "--name", "End-to-End Hospital", "--district", "North", "--region", "Coast")
    _osteo(env, "user", "add", "clerk@dh-e2e.org", "--role", "staff", "--hospital", "DH-E2E", "--password", "s3cret-pass")
    token = _osteo(env, "token", "create", "clerk@dh-e2e.org", "--name", "pacs").strip().splitlines()[0]
    client = Client(base, token)

    archive = write_phantom_archive(tmp_path / "today.zip", 8, seed=21)
    status, headers, body = client.request("POST", "/api/v1/batches", archive.read_bytes(),
                                           {"Content-Type": "application/zip", "X-Filename": "today.zip"})
    assert status == 202
    batch_url = json.loads(body)["status_url"]
    assert headers["Location"] == batch_url

    deadline = time.monotonic() + 240
    while (batch := client.json(batch_url))["status"] not in ("complete", "complete_with_errors", "failed"):
        assert time.monotonic() < deadline, ("batch did not finish", batch, [s.tail() for s in services])
        time.sleep(1)
    assert batch["status"] == "complete", batch["errors"]
    assert batch["counts"]["screened"] == batch["counts"]["accepted"] == 8
    assert batch["model_version"]

    results = client.json(batch["links"]["results"] + "?limit=100")
    items = results["items"]
    assert len(items) == 8 and all(item["class"] for item in items)
    patient = client.json(items[0]["links"]["patient"])
    pdf_link = next(entry["links"]["report_pdf"] for entry in patient["history"] if "report_pdf" in entry["links"])
    status, headers, pdf = client.request("GET", pdf_link)
    assert status == 200 and pdf.startswith(b"%PDF") and headers["Content-Type"].startswith("application/pdf")

    summary = client.json("/api/v1/summary?level=hospital")
    total = summary["total"]
    assert total["screened"] == 8
    assert sum(total["classes"].values()) == total["screened"]
    assert total["referred"] == sum(1 for item in items if item["referred"])

    s3 = boto3.client("s3", endpoint_url=env["OSTEO_S3_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id=TEST_CREDENTIALS["access_key"], aws_secret_access_key=TEST_CREDENTIALS["secret_key"])
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="reports/DH-E2E/")
            for o in page.get("Contents", [])]
    patients = {item["patient"] for item in items}
    assert sum(k.endswith(".pdf") and "/batches/" not in k for k in keys) == len(patients)
    assert any(k.endswith("summary.csv") for k in keys)
