"""One study, one call: POST /api/v1/screenings on real PostgreSQL, and ?wait= against the real pipeline."""

from __future__ import annotations

import io
import threading
from collections import deque
from pathlib import Path

import pytest
from sqlalchemy import select

from screening import pipeline
from screening.db.models import AuditEvent, Batch
from screening.db.session import session_scope
from screening.model_registry import load_active_predictor
from screening.storage import LocalObjectStore
from tests.factories import make_tiny_bundle, phantom_dicom, phantom_png
from tests.integration.web.conftest import web_settings
from tests.integration.web.world import World
from web import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> Path:
    return phantom_png(tmp_path_factory.mktemp("hand"), seed=12)[0]


def test_multipart_image_with_age_and_sex_is_a_batch_of_one_in_the_express_lane(client, world: World, world_db,
                                                                                 enqueued, hand) -> None:
    response = client.post("/api/v1/screenings", headers=world.auth("staff_north"),
                           data={"image": (io.BytesIO(hand.read_bytes()), "left-hand.png"), "age_years": "63",
                                 "sex": "F", "patient_id": "MRN-1"})
    assert response.status_code == 202, response.json
    body = response.json
    assert body["status"] == "queued" and body["finished"] is False and body["result"] is None
    assert body["status_url"] == f"/api/v1/screenings/{body['id']}" == response.headers["Location"]
    assert body["batch"]["filename"] == "left-hand.png" and body["batch"]["hospital"]["code"] == "NORTH"
    assert "DXA is the reference standard" in body["disclaimer"]
    assert enqueued == [("osteo.express.ingest", (body["id"],))]
    with session_scope(world_db) as session:
        batch = session.get(Batch, body["id"])
        assert batch.express and batch.archive_key.endswith(".bin")
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "screening.upload",
                                                       AuditEvent.target_id == body["id"])) is not None


def test_raw_dicom_body_takes_age_and_sex_from_its_tags(client, world: World, enqueued, hand) -> None:
    response = client.post("/api/v1/screenings", data=phantom_dicom(hand, age_years=70, sex="F"),
                           content_type="application/dicom", headers={**world.auth("staff_south"),
                                                                      "X-Filename": "IM0001"})
    assert response.status_code == 202, response.json
    assert response.json["batch"]["filename"] == "IM0001"
    assert enqueued == [(pipeline.names.in_lane(pipeline.INGEST, True), (response.json["id"],))]


@pytest.mark.parametrize(("data", "status", "detail"), [
    ({"sex": "F"}, 422, "age is needed"),
    ({"age_years": "61", "sex": "Q"}, 422, "sex must be F or M"),
    ({"age_years": "61", "sex": "F", "image": (io.BytesIO(b"PK\x03\x04 a zip"), "a.zip")}, 422, "not a PNG"),
    ({"age_years": "61", "sex": "F", "file": (io.BytesIO(b"x"), "a.png")}, 400, "field 'image'"),
])
def test_bad_screenings_are_refused_with_a_sentence_and_store_nothing(client, world: World, world_db, enqueued, hand,
                                                                       data, status, detail) -> None:
    if "image" not in data and "file" not in data:
        data = {**data, "image": (io.BytesIO(hand.read_bytes()), "hand.png")}
    with session_scope(world_db) as session:
        before = session.query(Batch).count()
    response = client.post("/api/v1/screenings", headers=world.auth("staff_north"), data=data)
    assert response.status_code == status and detail in response.json["detail"]
    assert enqueued == []
    with session_scope(world_db) as session:
        assert session.query(Batch).count() == before


def test_same_rules_as_batch_upload_for_who_may_send(client, world: World, hand) -> None:
    def send(who: str, **extra: str):  # type: ignore[no-untyped-def]
        return client.post("/api/v1/screenings", headers=world.auth(who), data={
            "image": (io.BytesIO(hand.read_bytes()), "hand.png"), "age_years": "60", "sex": "F", **extra})
    assert send("official_north").status_code == 403
    assert send("staff_north", hospital="SOUTH").status_code == 403
    assert send("admin").status_code == 400  # admins name the hospital
    assert client.post("/api/v1/screenings", data=b"x", content_type="text/plain",
                       headers=world.auth("staff_north")).status_code == 415
    assert client.get("/api/v1/screenings/abc").status_code == 401


def test_idempotency_key_replays_the_first_screening(client, world: World, enqueued, hand) -> None:
    headers = {**world.auth("staff_north"), "Idempotency-Key": "scr-1"}
    form = lambda: {"image": (io.BytesIO(hand.read_bytes()), "hand.png"), "age_years": "60", "sex": "F"}
    first = client.post("/api/v1/screenings", headers=headers, data=form())
    again = client.post("/api/v1/screenings", headers=headers, data=form())
    assert (first.status_code, again.status_code) == (202, 200) and first.json["id"] == again.json["id"]
    assert len(enqueued) == 1


def test_a_finished_batch_reads_with_its_results_and_links(client, world: World) -> None:
    body = client.get(f"/api/v1/screenings/{world.batches['NORTH']}", headers=world.auth("staff_north")).json
    assert body["finished"] is True and len(body["results"]) == 2 and body["result"] is None
    screened = next(r for r in body["results"] if r["class"])
    assert screened["class"] == "osteoporosis" and screened["referred"] is True
    assert {"jet", "report_pdf", "patient"} <= set(screened["links"])
    hidden = client.get(f"/api/v1/screenings/{world.batches['NORTH']}", headers=world.auth("staff_south"))
    assert hidden.status_code == 404


def test_wait_answers_with_the_result_once_the_real_pipeline_has_run(world: World, world_db, world_dir, hand,
                                                                      tmp_path) -> None:
    """The upload is screened by the pipeline's own steps in a thread while the request waits."""
    settings = web_settings(world_db, world_dir, model_bundle=str(make_tiny_bundle(tmp_path / "tiny")),
                            chunk_size="4")
    queue: deque[tuple[str, tuple]] = deque()
    arrived = threading.Event()

    def enqueue(name: str, args: tuple) -> None:
        queue.append((name, args))
        arrived.set()

    ctx = pipeline.PipelineContext(settings=settings, store=LocalObjectStore(settings.storage_dir),
                                   enqueue=enqueue, load_predictor=lambda: load_active_predictor(settings))
    names: list[str] = []

    def worker() -> None:
        arrived.wait(60)
        while queue:
            name, args = queue.popleft()
            names.append(name)
            pipeline.STEPS[name](ctx, *args)

    app = create_app(settings, enqueue=enqueue, rate_limits={"upload": (1000, 60)})
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    response = app.test_client().post("/api/v1/screenings?wait=90", headers=world.auth("staff_north"), data={
        "image": (io.BytesIO(hand.read_bytes()), "waited.png"), "age_years": "68", "sex": "M", "patient_id": "W1"})
    thread.join(5)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["finished"] is True and body["status"] == "complete", body["batch"]["errors"]
    result = body["result"]
    assert result["filename"] == "waited.png" and result["class"] in ("normal", "osteopenia", "osteoporosis")
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert isinstance(result["referred"], bool) and result["model_version"] in body["model_versions"]
    assert {"jet", "report_pdf", "patient"} <= set(result["links"])
    assert names and all(pipeline.names.is_express(name) for name in names)
    pdf = app.test_client().get(result["links"]["report_pdf"], headers=world.auth("staff_north"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
