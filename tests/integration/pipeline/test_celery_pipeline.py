"""Batches through a real Celery worker process, Redis, PostgreSQL and an S3 API server."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from screening.accounts import add_hospital, get_hospital
from screening.config import load_settings
from screening.db import (
    Batch,
    BatchStatus,
    Image,
    Prediction,
    Quality,
    Report,
    schema,
    session_scope,
)
from screening.pipeline import submit_batch
from screening.pipeline.status import FINAL
from tests.factories import make_tiny_bundle, write_phantom_archive
from tests.fixtures_s3 import TEST_CREDENTIALS
from tests.hostile import HOSTILE_REASONS, add_hostile_members
from tests.processes import Service, wait_for
from worker.app import create_app
from worker.routing import publisher
from worker.topology import celery_worker_command

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


@pytest.fixture
def stack(postgres_url, redis_url, s3_store, tiny_bundle, tmp_path):
    """Environment of a production deployment, pointing at this test's database, queue and bucket."""
    # The database OSTEO_TEST_REDIS_URL names, emptied per test: parallel test runs (other checkouts)
    # each name their own, so their workers never take this test's tasks.
    broker = redis_url
    redis.Redis.from_url(broker).flushdb()
    env = {
        "OSTEO_VAR_DIR": str(tmp_path / "var"),
        "OSTEO_DATABASE_URL": postgres_url,
        "OSTEO_REDIS_URL": broker,
        "OSTEO_STORAGE_BACKEND": "s3",
        "OSTEO_S3_ENDPOINT_URL": s3_store.endpoint_url,
        "OSTEO_S3_BUCKET": s3_store.bucket,
        "OSTEO_S3_ACCESS_KEY": TEST_CREDENTIALS["access_key"],
        "OSTEO_S3_SECRET_KEY": TEST_CREDENTIALS["secret_key"],
        "OSTEO_MODEL_BUNDLE": str(tiny_bundle),
        "OSTEO_CHUNK_SIZE": "4",
        "OSTEO_BROKER_VISIBILITY_TIMEOUT": "8",
    }
    settings = load_settings(env)
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
    workers: list[Service] = []

    def start_worker(name: str) -> Service:
        worker = Service(celery_worker_command("ingest,inference,reports", name), env, tmp_path / f"{name}.log")
        workers.append(worker)
        return worker

    yield settings, s3_store, start_worker
    for worker in workers:
        worker.stop()
    redis.Redis.from_url(broker).flushdb()


def _submit(settings, store, archive: Path) -> str:
    """What the API does: store the archive, commit the batch row, then enqueue ingest."""
    with session_scope(settings.database_url) as session, archive.open("rb") as stream:
        batch = submit_batch(session, store, publisher(create_app(settings)), get_hospital(session, "DH1"),
                             stream, archive.name).batch
    return batch.id


def _batch(settings, batch_id) -> Batch:
    with session_scope(settings.database_url) as session:
        return session.get(Batch, batch_id)


def _finished(settings, batch_id) -> bool:
    return _batch(settings, batch_id).status in FINAL


def _assert_one_prediction_per_accepted_image(settings, batch_id) -> None:
    with session_scope(settings.database_url) as session:
        accepted = set(session.scalars(select(Image.id).where(
            Image.batch_id == batch_id, Image.quality.in_([Quality.ACCEPTED, Quality.WARNING]))))
        predicted = list(session.scalars(select(Prediction.image_id).where(Prediction.batch_id == batch_id)))
    assert accepted, "nothing was accepted"
    assert sorted(predicted) == sorted(accepted)  # nothing lost, nothing duplicated


def test_batch_goes_through_ingest_screening_reports_and_finalize(stack, tmp_path):
    settings, store, start_worker = stack
    worker = start_worker("w1")
    batch_id = _submit(settings, store, write_phantom_archive(tmp_path / "day.zip", 12, seed=5))
    wait_for(lambda: _finished(settings, batch_id), 240, "the batch to finish")
    batch = _batch(settings, batch_id)
    assert batch.status is BatchStatus.COMPLETE, (batch.error, worker.tail())
    assert (batch.files_total, batch.accepted, batch.screened, batch.chunks_total) == (12, 12, 12, 3)
    _assert_one_prediction_per_accepted_image(settings, batch_id)
    with session_scope(settings.database_url) as session:
        reports = session.scalars(select(Report).where(Report.batch_id == batch_id)).all()
        patients = session.scalar(select(func.count(func.distinct(Image.patient_id))).where(Image.batch_id == batch_id))
    assert len(reports) == patients == batch.reported
    assert all(store.exists(r.pdf_key) and store.exists(r.html_key) for r in reports)
    assert store.exists(batch.summary_key)


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(stack, tmp_path):
    settings, store, start_worker = stack
    first = start_worker("doomed")
    batch_id = _submit(settings, store, write_phantom_archive(tmp_path / "big.zip", 40, seed=6))
    wait_for(lambda: 0 < _batch(settings, batch_id).screened < 36, 240, "screening to be under way", 0.05)
    first.kill()
    survivor = start_worker("survivor")
    wait_for(lambda: _finished(settings, batch_id), 300, "the batch to finish after the kill")
    batch = _batch(settings, batch_id)
    assert batch.status is BatchStatus.COMPLETE, (batch.error, survivor.tail())
    assert batch.screened == batch.accepted == 40
    _assert_one_prediction_per_accepted_image(settings, batch_id)


def test_hostile_archive_members_are_rejected_and_the_rest_screened(stack, tmp_path):
    settings, store, start_worker = stack
    start_worker("w1")
    archive = write_phantom_archive(tmp_path / "hostile.zip", 3, seed=7)
    with zipfile.ZipFile(archive, "a") as zf:
        add_hostile_members(zf)
    batch_id = _submit(settings, store, archive)
    wait_for(lambda: _finished(settings, batch_id), 240, "the batch to finish")
    batch = _batch(settings, batch_id)
    assert batch.status is BatchStatus.COMPLETE, batch.error
    assert batch.screened == 3
    with session_scope(settings.database_url) as session:
        rejected = {i.filename: i.quality_reason for i in session.scalars(
            select(Image).where(Image.batch_id == batch_id, Image.quality == Quality.REJECTED))}
    assert set(rejected) == set(HOSTILE_REASONS)
    for name, expected in HOSTILE_REASONS.items():
        assert rejected[name], f"{name} rejected without a reason"
        assert expected in rejected[name], (name, rejected[name])
    assert not any(key.endswith("evil.png") for key in store.list(""))


def test_every_readable_hand_is_measured_and_its_overlay_and_report_section_stored(stack, tmp_path):
    """Radiogrammetry through the real worker, PostgreSQL and S3: columns, lines in the file's frame, overlay, report."""
    from screening.anatomy.radiogrammetry import METHOD_VERSION
    from tests.measurements import check_against_truth, expected_columns, phantom_truth, png_size

    settings, store, start_worker = stack
    worker = start_worker("w1")
    size, seed, count = 1280, 7, 4  # hands 0-2 of seed 7 are measured by radiogrammetry-1.2, 3 refused
    spacings = {0: "0.08", 1: "0.08", 3: ""}  # image 3: no spacing, measured in pixels
    archive = write_phantom_archive(tmp_path / "measured.zip", count, seed=seed, size=size,
                                    overrides={i: {"pixel_spacing_mm": s} for i, s in spacings.items()}
                                    | {2: {"age_years": "40"}})
    batch_id = _submit(settings, store, archive)
    wait_for(lambda: _finished(settings, batch_id), 240, "the batch to finish")
    batch = _batch(settings, batch_id)
    assert batch.status is BatchStatus.COMPLETE, (batch.error, worker.tail())
    with session_scope(settings.database_url) as session:
        images = list(session.scalars(select(Image).where(Image.batch_id == batch_id).order_by(Image.filename)))
        reports = {r.patient_id: r for r in session.scalars(select(Report).where(Report.batch_id == batch_id))}
        session.expunge_all()
    assert [i.eligible for i in images] == [True, True, False, True]  # image 2's patient is 40: measured anyway
    for index, image in enumerate(images):
        assert image.radiogrammetry_version == METHOD_VERSION and image.measured is not None, image.filename
        spacing = float(spacings[index]) if spacings.get(index) else None
        stored = {key: getattr(image, key) for key in ("radiogrammetry_version", "measured", "cortical_index",
                                                        "cortical_thickness_mm", "measurement")}
        assert stored == expected_columns(archive, image, spacing), image.filename
        if image.measured:
            assert image.measurement_overlay_key == f"overlays/{batch_id}/{image.id}/measurement.png"
            assert max(png_size(store.get_bytes(image.measurement_overlay_key))) <= 1024
            if image.eligible:  # screened, so reported
                html = store.get_bytes(reports[image.patient_id].html_key).decode()
                assert "Measured bone" in html and f"{100 * image.cortical_index:.1f} %" in html
        else:
            assert image.measurement_overlay_key is None and image.measurement["reason"]
    assert any(i.measured for i in images), "no phantom hand was measured: the checks prove nothing"
    assert check_against_truth(images, phantom_truth(count, seed, size), size) >= 2
