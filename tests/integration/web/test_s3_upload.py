"""Uploads stream into the S3 backend (a real S3 API server) before the API answers 202."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from screening.db import schema
from screening.db.models import Batch
from screening.db.session import session_scope
from tests.integration.web.conftest import web_settings
from tests.integration.web.world import build
from web import create_app

pytestmark = pytest.mark.integration


def test_upload_lands_in_s3(postgres_url, s3_store, tmp_path) -> None:
    schema.upgrade(postgres_url)
    with session_scope(postgres_url) as session:
        world = build(session, s3_store)
    enqueued: list = []
    app = create_app(web_settings(postgres_url, tmp_path), store=s3_store,
                     enqueue=lambda name, args: enqueued.append(args[0]))
    payload = b"PK\x03\x04" + bytes(range(256)) * 40_000  # ~10 MB: several multipart chunks
    response = app.test_client().post("/api/v1/batches", data=payload, content_type="application/zip",
                                      headers={**world.auth("staff_north"), "X-Filename": "big.zip"})
    assert response.status_code == 202
    with session_scope(postgres_url) as session:
        batch = session.scalar(select(Batch).where(Batch.id == response.json["id"]))
        assert s3_store.get_bytes(batch.archive_key) == payload
    assert enqueued == [batch.id]
    multipart = app.test_client().post("/api/v1/batches", headers=world.auth("staff_south"),
                                       data={"archive": (io.BytesIO(payload[:1000]), "small.zip")})
    assert multipart.status_code == 202
