"""What a batch ends as and what it tells staff: needs_attention, problem rows, reasons, the raw upload."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from screening.cli import cli
from screening.db import BatchProblem, BatchStatus, Image, Quality, session_scope
from screening.pipeline.problems import SUMMARY_CHARS
from screening.storage import open_store
from tests.factories import write_phantom_archive
from tests.unit.pipeline.conftest import screen


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _phantoms(tmp_path: Path, count: int, seed: int) -> dict[str, bytes]:
    with zipfile.ZipFile(write_phantom_archive(tmp_path / f"src{seed}.zip", count, seed=seed)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _images(members: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in members.items() if k != "manifest.csv"}


def _reasons(settings, batch_id: str) -> dict[str, str]:
    with session_scope(settings.database_url) as session:
        return {i.filename: i.quality_reason for i in session.scalars(select(Image).where(Image.batch_id == batch_id))}


def _problems(settings, batch_id: str) -> list[tuple[str | None, str]]:
    with session_scope(settings.database_url) as session:
        return [(p.filename, p.message) for p in session.scalars(
            select(BatchProblem).where(BatchProblem.batch_id == batch_id).order_by(BatchProblem.id))]


# --- nothing screened: the batch asks for attention -----------------------------------------------


def test_empty_archive_needs_attention(embedded, tmp_path):
    batch = screen(embedded, _zip(tmp_path / "empty.zip", {}))
    assert batch.status is BatchStatus.NEEDS_ATTENTION
    assert "the archive holds no files" in batch.error


def test_images_without_manifest_need_attention(embedded, tmp_path):
    batch = screen(embedded, _zip(tmp_path / "nomanifest.zip", _images(_phantoms(tmp_path, 2, 21))))
    assert batch.status is BatchStatus.NEEDS_ATTENTION
    assert "nothing could be screened: 2 of 2 files rejected" in batch.error
    assert "not in manifest.csv" in batch.error


def test_every_manifest_row_invalid_needs_attention_with_each_reason(embedded, tmp_path):
    members = _phantoms(tmp_path, 3, 22)
    names = sorted(_images(members))
    manifest = ("file,patient_id,age_years,sex\n"
                f"{names[0]},P1,sixty,F\n{names[1]},P2,70,X\n{names[2]},P3,,F\n").encode()
    batch = screen(embedded, _zip(tmp_path / "invalid.zip", {**_images(members), "manifest.csv": manifest}))
    assert batch.status is BatchStatus.NEEDS_ATTENTION
    reasons = _reasons(embedded, batch.id)
    assert reasons[names[0]] == "manifest.csv line 2: age_years must be a number, got 'sixty'"
    assert reasons[names[1]] == "manifest.csv line 3: sex must be F or M, got 'X'"
    assert "age unknown" in reasons[names[2]]
    assert not any("could not convert" in r or "not in manifest.csv" in r for r in reasons.values())


def test_osteo_screen_exits_non_zero_when_the_batch_needs_attention(embedded, tmp_path):
    archive = _zip(tmp_path / "nomanifest.zip", _images(_phantoms(tmp_path, 1, 23)))
    result = CliRunner().invoke(cli, ["screen", str(archive), "--hospital", "DH1", "--no-reports"])
    assert result.exit_code == 1, result.output
    assert "status:   needs_attention" in result.output


# --- problems are rows, the batch keeps a bounded summary -----------------------------------------


def test_missing_files_are_problem_rows_and_the_summary_stays_small(embedded, tmp_path):
    members = _phantoms(tmp_path, 2, 24)
    missing = [f"never-sent-{i:05d}-{'x' * 200}.png" for i in range(300)]
    manifest = members["manifest.csv"] + "".join(f"{name},M{i},65,F\n" for i, name in enumerate(missing)).encode()
    batch = screen(embedded, _zip(tmp_path / "missing.zip", {**_images(members), "manifest.csv": manifest}))
    assert batch.status is BatchStatus.COMPLETE and batch.screened == 2
    problems = _problems(embedded, batch.id)
    assert batch.problems_total == len(problems) == 300
    assert {name for name, _ in problems} == set(missing)
    assert len(batch.error) < SUMMARY_CHARS + 100 and "290 more problems" in batch.error


def test_files_beyond_the_cap_are_one_problem_not_a_row_each(embedded, tmp_path):
    settings = replace(embedded, max_archive_files=4)
    members = _phantoms(tmp_path, 2, 25)
    junk = {f"junk-{i}.txt": b"x" for i in range(50)}
    batch = screen(settings, _zip(tmp_path / "many.zip", {**members, **junk}))
    assert batch.screened == 2 and batch.status in (BatchStatus.COMPLETE, BatchStatus.COMPLETE_WITH_ERRORS)
    assert batch.files_total <= 4
    assert [m for _, m in _problems(settings, batch.id)] == [
        "the archive holds more than 4 files: the rest were not read"]


def test_manifest_past_the_cap_fails_the_batch(embedded, tmp_path):
    settings = replace(embedded, max_archive_files=10)
    members = _phantoms(tmp_path, 1, 26)
    manifest = members["manifest.csv"] + "".join(f"f{i}.png,M{i},65,F\n" for i in range(20)).encode()
    batch = screen(settings, _zip(tmp_path / "bigmanifest.zip", {**_images(members), "manifest.csv": manifest}))
    assert batch.status is BatchStatus.FAILED
    assert "manifest.csv lists more than 10 files" in batch.error
    assert batch.problems_total == 1


# --- the raw upload is not kept; failed images do not block a re-upload ----------------------------


def test_raw_upload_is_deleted_once_ingest_ends(embedded, tmp_path):
    batch = screen(embedded, write_phantom_archive(tmp_path / "day.zip", 2, seed=27))
    assert batch.status is BatchStatus.COMPLETE
    assert batch.archive_key is None
    assert list(open_store(embedded).list("uploads/")) == []


def test_raw_upload_of_a_failed_batch_is_deleted_too(embedded, tmp_path):
    bogus = tmp_path / "upload.zip"
    bogus.write_bytes(b"PK this is not an archive")
    batch = screen(embedded, bogus)
    assert batch.status is BatchStatus.FAILED and batch.archive_key is None
    assert list(open_store(embedded).list("uploads/")) == []


def test_retention_keeps_the_upload_until_the_sweep_finds_it_due(embedded, tmp_path):
    from screening.pipeline import PipelineContext, sweep

    keeping = replace(embedded, upload_retention_hours=1)
    batch = screen(keeping, write_phantom_archive(tmp_path / "day.zip", 1, seed=28))
    store = open_store(embedded)
    assert batch.archive_key and store.exists(batch.archive_key)
    sweep(PipelineContext(settings=keeping, store=store, enqueue=lambda name, args: None))
    assert store.exists(batch.archive_key)  # not due yet
    sweep(PipelineContext(settings=embedded, store=store, enqueue=lambda name, args: None))
    assert list(store.list("uploads/")) == []


def test_images_whose_screening_failed_are_not_duplicates_on_re_upload(embedded, tmp_path):
    archive = write_phantom_archive(tmp_path / "day.zip", 2, seed=29)
    first = screen(embedded, archive)
    with session_scope(embedded.database_url) as session:  # as an outage used to record them
        for image in session.scalars(select(Image).where(Image.batch_id == first.id)):
            image.error = "could not be screened: its stored copy could not be read"
    again = screen(embedded, archive)
    assert (again.duplicates, again.screened) == (0, 2)
    assert again.status is BatchStatus.COMPLETE


@pytest.mark.parametrize("text", ["could not convert string to float: 'abc'", "x" * 500])
def test_public_reason_hides_internals(text):
    from screening.safe_text import public_reason
    from screening.storage import StorageUnavailable

    assert "could not convert" not in public_reason(ValueError(text))
    assert len(public_reason(ValueError(text))) <= 200
    secret = StorageUnavailable("cannot reach the S3 endpoint http://10.0.0.5:9000 (bucket 'osteo-prod')")
    assert "10.0.0.5" not in public_reason(secret) and "osteo-prod" not in public_reason(secret)


def test_quality_reason_of_rejected_rows_is_staff_wording(embedded, tmp_path):
    members = _phantoms(tmp_path, 1, 30)
    batch = screen(embedded, _zip(tmp_path / "r.zip", {**members, "notes.txt": b"hello"}))
    assert _reasons(embedded, batch.id)["notes.txt"]
    with session_scope(embedded.database_url) as session:
        assert session.scalar(select(Image.quality).where(Image.filename == "notes.txt")) is Quality.REJECTED
