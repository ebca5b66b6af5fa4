"""Health checks, and no download route outside the authorizing API."""

from __future__ import annotations

import pytest

from tests.integration.web.conftest import web_settings
from web import create_app

pytestmark = pytest.mark.integration


def test_health_and_readiness_report_each_dependency(client) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["checks"] == {"database": "ok", "object_store": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["schema"] == "ok"


def test_unreachable_database_is_503(tmp_path) -> None:
    settings = web_settings("postgresql://postgres@127.0.0.1:1/none", tmp_path)
    response = create_app(settings, enqueue=lambda *a: None).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unavailable")
    assert response.json["checks"]["object_store"] == "ok"


def test_unmigrated_database_is_healthy_but_not_ready(postgres_url, tmp_path) -> None:
    client = create_app(web_settings(postgres_url, tmp_path), enqueue=lambda *a: None).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "osteo db upgrade" in ready.json["checks"]["schema"]


def test_there_is_no_file_download_route(client) -> None:
    """Reports and overlays are served by the authorizing API routes only (no unauthenticated links)."""
    assert client.get("/files/exports/a.csv").status_code == 404
