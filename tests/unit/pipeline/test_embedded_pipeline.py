"""A whole batch through the real pipeline on the embedded default (SQLite, local store, in-process)."""


import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from screening.cli import cli
from screening.db import (
    BatchStatus,
    DailyHospitalSummary,
    Image,
    Patient,
    Prediction,
    Quality,
    session_scope,
)
from screening.storage import open_store
from tests.factories import write_phantom_archive
from tests.unit.pipeline.conftest import screen
from training.phantoms import write_dataset

_screen = screen


def test_batch_is_screened_end_to_end(embedded, tmp_path):
    archive = write_phantom_archive(tmp_path / "day1.zip", 10, seed=1)
    batch = _screen(embedded, archive)
    assert batch.status is BatchStatus.COMPLETE, batch.error
    assert (batch.files_total, batch.accepted, batch.screened, batch.chunks_total) == (10, 10, 10, 3)
    store = open_store(embedded)
    with session_scope(embedded.database_url) as session:
        predictions = session.scalars(select(Prediction)).all()
        assert len(predictions) == 10
        for p in predictions:
            assert p.p_normal + p.p_osteopenia + p.p_osteoporosis == pytest.approx(1.0, abs=1e-4)
            assert set(p.overlay_keys) == {"jet", "hot", "viridis"}
            assert all(store.exists(k) for k in p.overlay_keys.values())
        summary = session.get(DailyHospitalSummary, (batch.hospital_id, batch.created_at.date()))
        assert summary.screened == 10 and summary.files == 10
        assert summary.normal + summary.osteopenia + summary.osteoporosis == 10
        patients = session.scalars(select(Patient)).all()
        assert patients and all(p.latest_class is not None and p.latest_risk is not None for p in patients)
        # Nothing identifying reaches storage: patients are stored by keyed pseudonym only.
        assert all(p.pseudonym.startswith("P") and len(p.pseudonym) == 21 for p in patients)


def test_resubmitted_images_are_duplicates_and_not_screened_twice(embedded, tmp_path):
    archive = write_phantom_archive(tmp_path / "day1.zip", 4, seed=2)
    _screen(embedded, archive)
    again = _screen(embedded, archive)
    assert (again.duplicates, again.accepted, again.screened) == (4, 0, 0)
    # Nothing in it could be screened: the batch asks for attention and says why.
    assert again.status is BatchStatus.NEEDS_ATTENTION
    assert "nothing could be screened" in again.error
    assert "4 files: exact duplicate of an image already received" in again.error


def test_bad_files_fail_alone(embedded, tmp_path):
    stranger = write_dataset(tmp_path / "stranger", 1, seed=99, size=320).parent / "images"
    archive = write_phantom_archive(tmp_path / "mixed.zip", 3, seed=3, extra={
        "notes.txt": b"not an image",
        "broken.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        "images/nobody.png": next(stranger.iterdir()).read_bytes(),
    })
    batch = _screen(embedded, archive)
    assert batch.status is BatchStatus.COMPLETE
    assert batch.screened == 3
    with session_scope(embedded.database_url) as session:
        reasons = {i.filename: i.quality_reason for i in session.scalars(select(Image).where(Image.quality == Quality.REJECTED))}
    assert set(reasons) == {"notes.txt", "broken.png", "images/nobody.png"}
    assert "no patient data" in reasons["images/nobody.png"]


def test_unreadable_upload_fails_the_batch_with_a_reason(embedded, tmp_path):
    bogus = tmp_path / "upload.zip"
    bogus.write_bytes(b"this is not an archive")
    batch = _screen(embedded, bogus)
    assert batch.status is BatchStatus.FAILED
    assert "not a readable archive" in batch.error


def test_osteo_screen_command(embedded, tmp_path):
    archive = write_phantom_archive(tmp_path / "cli.zip", 3, seed=4)
    result = CliRunner().invoke(cli, ["screen", str(archive), "--hospital", "DH1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "status:   complete" in result.output
    with session_scope(embedded.database_url) as session:
        patients = session.scalar(select(func.count()).select_from(Patient))
    assert f"screened: 3, failed: 0, reports: {patients}" in result.output
    reports = list((tmp_path / "var" / "objects" / "objects" / "reports" / "DH1").rglob("*.pdf"))
    assert len(reports) == patients + 1  # one per patient plus the batch summary
    assert "not a diagnosis" in result.output
    missing = CliRunner().invoke(cli, ["screen", str(archive), "--hospital", "NOPE"])
    assert missing.exit_code != 0 and "osteo hospital add" in missing.output
