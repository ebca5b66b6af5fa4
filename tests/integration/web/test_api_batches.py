"""Uploads, idempotency, listing, status and results through /api/v1, on real PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import select

from screening import pipeline
from screening.db.models import AuditEvent, Batch
from screening.db.session import session_scope
from tests.integration.web.world import MODEL_ID, World

pytestmark = pytest.mark.integration
DISCLAIMER = "Screening aid, not a diagnosis; DXA is the reference standard."


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.csv", "file,patient_id,age_years,sex\nhand.png,123,61,F\n")
        archive.writestr("hand.png", b"\x89PNG\r\n\x1a\n not really an image")
    return buffer.getvalue()


def test_multipart_upload_is_stored_committed_then_enqueued(app, client, world: World, world_db: str) -> None:
    seen_at_enqueue: list[bool] = []

    def enqueue(name: str, args: tuple) -> None:
        with session_scope(world_db) as session:  # a separate connection: the row must be committed
            batch = session.get(Batch, args[0])
            seen_at_enqueue.append(batch is not None and app.extensions["osteo"].store.exists(batch.archive_key))
    app.extensions["osteo"].enqueue = enqueue
    data = small_zip()
    response = client.post("/api/v1/batches", headers=world.auth("staff_north"),
                           data={"archive": (io.BytesIO(data), "monday.zip")})
    assert response.status_code == 202, response.json
    body = response.json
    assert body["status"] == "queued" and body["hospital"]["code"] == "NORTH"
    assert body["status_url"] == f"/api/v1/batches/{body['id']}" == response.headers["Location"]
    assert body["disclaimer"] == DISCLAIMER and "model_versions" in body
    assert seen_at_enqueue == [True]
    with session_scope(world_db) as session:
        batch = session.get(Batch, body["id"])
        assert app.extensions["osteo"].store.get_bytes(batch.archive_key) == data
        assert batch.original_filename == "monday.zip"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.upload",
                                                        AuditEvent.target_id == body["id"]))
        assert event is not None and event.details["hospital"] == "NORTH"


def test_raw_body_upload_with_filename_header(client, world: World, enqueued) -> None:
    response = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                           headers={**world.auth("staff_north"), "X-Filename": "tuesday.zip"})
    assert response.status_code == 202
    assert response.json["filename"] == "tuesday.zip"
    assert enqueued == [(pipeline.INGEST, (response.json["id"],))]


def test_retry_with_idempotency_key_returns_the_first_batch(client, world: World, enqueued) -> None:
    headers = {**world.auth("staff_north"), "Idempotency-Key": "upload-2024-03-01-a"}
    first = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip", headers=headers)
    again = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip", headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json["id"] == again.json["id"]
    assert len(enqueued) == 1


def test_admin_must_name_the_hospital(client, world: World) -> None:
    missing = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                          headers=world.auth("admin"))
    assert missing.status_code == 400 and missing.mimetype == "application/problem+json"
    assert "hospital" in missing.json["detail"]
    unknown = client.post("/api/v1/batches?hospital=NOPE", data=small_zip(), content_type="application/zip",
                          headers=world.auth("admin"))
    assert unknown.status_code == 422
    named = client.post("/api/v1/batches?hospital=hill", data=small_zip(), content_type="application/zip",
                        headers=world.auth("admin"))
    assert named.status_code == 202 and named.json["hospital"]["code"] == "HILL"


@pytest.mark.parametrize("who, hospital", [("staff_south", "NORTH"), ("official_coast", None)])
def test_uploads_outside_ones_hospital_are_forbidden(client, world: World, enqueued, who, hospital) -> None:
    query = f"?hospital={hospital}" if hospital else ""
    response = client.post(f"/api/v1/batches{query}", data=small_zip(), content_type="application/zip",
                           headers=world.auth(who))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert enqueued == []


@pytest.mark.parametrize("kwargs, status, words", [
    (dict(data=b"hello", content_type="text/plain"), 415, "multipart/form-data"),
    (dict(data=b"", content_type="application/zip"), 400, "empty"),
    (dict(data={"archive": (io.BytesIO(b"x"), "notes.txt")}), 415, "not an archive"),
    (dict(data={"other": "x"}, content_type="multipart/form-data"), 400, "'archive'"),
])
def test_bad_uploads_are_4xx_problems(client, world: World, enqueued, kwargs, status, words) -> None:
    response = client.post("/api/v1/batches", headers=world.auth("staff_north"), **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert words in response.json["detail"]
    assert {"type", "title", "status", "detail"} <= set(response.json)
    assert enqueued == []


def test_too_large_upload_is_413(app, client, world: World, enqueued) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/batches", data=b"x" * 5000, content_type="application/zip",
                           headers=world.auth("staff_north"))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert enqueued == []


def test_bad_idempotency_key_is_400(client, world: World) -> None:
    response = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                           headers={**world.auth("staff_north"), "Idempotency-Key": "k" * 200})
    assert response.status_code == 400


def test_upload_rate_limit_answers_429(app, client, world: World) -> None:
    app.extensions["osteo"].limiter.limits["upload"] = (2, 60)
    codes = [client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                         headers=world.auth("staff_south")).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_requests_without_valid_credentials_are_401(client, world: World) -> None:
    assert client.get("/api/v1/batches").status_code == 401
    bad = client.get("/api/v1/batches", headers={"Authorization": "Bearer osteo_not-a-token"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/batches", headers={"Authorization": "Basic abc"}).status_code == 401


def test_batch_list_is_scoped_and_paginated(client, world: World) -> None:
    north = client.get("/api/v1/batches?limit=1", headers=world.auth("staff_north")).json
    assert north["limit"] == 1 and len(north["items"]) == 1
    everyone = client.get("/api/v1/batches?limit=500", headers=world.auth("staff_north")).json
    assert {item["hospital"]["code"] for item in everyone["items"]} == {"NORTH"}
    coast = client.get("/api/v1/batches?limit=500", headers=world.auth("official_coast")).json
    assert {item["hospital"]["code"] for item in coast["items"]} >= {"NORTH", "SOUTH"}
    assert "HILL" not in {item["hospital"]["code"] for item in coast["items"]}
    for query in ("limit=0", "limit=abc", "offset=-1", "status=nonsense"):
        response = client.get(f"/api/v1/batches?{query}", headers=world.auth("admin"))
        assert response.status_code == 400, query


def test_batch_status_names_the_model_and_counts(client, world: World) -> None:
    body = client.get(f"/api/v1/batches/{world.batches['NORTH']}", headers=world.auth("staff_north")).json
    assert body["status"] == "complete" and body["progress"] == 1.0 and body["finished"] is True
    assert body["model_version"] == {"id": MODEL_ID, "name": "fusion-test"}
    assert body["model_versions"] == [MODEL_ID]
    assert body["counts"]["screened"] == 1 and body["counts"]["rejected"] == 1
    assert body["links"]["results"].endswith("/results")


def test_results_json_and_csv(client, world: World) -> None:
    url = f"/api/v1/batches/{world.batches['NORTH']}/results"
    body = client.get(url, headers=world.auth("staff_north")).json
    assert body["total"] == 2 and body["disclaimer"] == DISCLAIMER and body["model_versions"] == [MODEL_ID]
    by_name = {item["filename"]: item for item in body["items"]}
    assert by_name["blurry.png"]["quality"] == "rejected"
    assert by_name["blurry.png"]["reason"] == "image too blurred" and by_name["blurry.png"]["class"] is None
    hand = by_name["hand-1.png"]
    assert hand["class"] == "osteoporosis" and hand["referred"] is True
    assert hand["probabilities"] == {"normal": 0.1, "osteopenia": 0.2, "osteoporosis": 0.7}
    assert hand["patient"] == world.patients["NORTH"]
    assert {"jet", "hot", "viridis", "report_pdf", "report_html", "patient"} <= set(hand["links"])
    referred = client.get(url + "?only=referred", headers=world.auth("staff_north")).json
    assert [i["filename"] for i in referred["items"]] == ["hand-1.png"]
    for response in (client.get(url + "?format=csv", headers=world.auth("staff_north")),
                     client.get(url, headers={**world.auth("staff_north"), "Accept": "text/csv"})):
        assert response.mimetype == "text/csv"
        lines = response.get_data(as_text=True).splitlines()
        assert DISCLAIMER in lines[0] and MODEL_ID in lines[0]
        rows = list(csv.DictReader(lines[1:]))
        assert {r["filename"]: r["class"] for r in rows} == {"blurry.png": "", "hand-1.png": "osteoporosis"}
    assert client.get(url + "?format=xml", headers=world.auth("staff_north")).status_code == 400


def test_unknown_batch_is_404(client, world: World) -> None:
    for path in ("/api/v1/batches/nope", "/api/v1/batches/0123456789abcdef0123456789abcdef/results"):
        response = client.get(path, headers=world.auth("admin"))
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
