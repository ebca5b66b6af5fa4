"""``osteo screen`` takes one image or a folder as well as an archive, and says when a batch failed."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from sqlalchemy import select

from screening.cli import cli
from screening.db import Batch, BatchStatus, Image, Prediction, session_scope
from tests.factories import phantom_dicom, phantom_png


def _screen(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["screen", *args, "--hospital", "DH1", "--no-reports"], catch_exceptions=False)


def _last_batch(settings) -> tuple[Batch, list[Image], list[Prediction]]:  # type: ignore[no-untyped-def]
    with session_scope(settings.database_url) as session:
        batch = session.scalars(select(Batch).order_by(Batch.created_at.desc())).first()
        images = list(session.scalars(select(Image).where(Image.batch_id == batch.id)))
        predictions = list(session.scalars(select(Prediction).where(Prediction.batch_id == batch.id)))
        return batch, images, predictions


def test_one_png_with_age_and_sex_is_a_batch_of_one(embedded, tmp_path):
    png, _ = phantom_png(tmp_path / "one", seed=5)
    result = _screen(str(png), "--age", "66", "--sex", "F")
    assert result.exit_code == 0, result.output
    assert "status:   complete" in result.output
    batch, images, predictions = _last_batch(embedded)
    assert batch.original_filename == png.name and batch.files_total == 1
    assert [(i.filename, i.age_months, i.sex) for i in images] == [(png.name, 792, "F")]
    assert len(predictions) == 1


def test_one_dicom_takes_age_and_sex_from_its_tags(embedded, tmp_path):
    png, _ = phantom_png(tmp_path / "one", seed=6)
    (tmp_path / "IM0001").write_bytes(phantom_dicom(png, age_years=71, sex="M"))
    result = _screen(str(tmp_path / "IM0001"))
    assert result.exit_code == 0, result.output
    _, images, predictions = _last_batch(embedded)
    assert [(i.age_months, i.sex, i.source_format) for i in images] == [(852, "M", "dicom")] and predictions


def test_a_png_without_age_is_refused_before_anything_is_stored(embedded, tmp_path):
    png, _ = phantom_png(tmp_path / "one", seed=7)
    result = CliRunner().invoke(cli, ["screen", str(png), "--hospital", "DH1", "--sex", "F"])
    assert result.exit_code != 0 and "age is needed" in result.output
    with session_scope(embedded.database_url) as session:
        assert session.scalar(select(Batch)) is None


def test_a_folder_with_its_manifest_is_screened(embedded, tmp_path):
    for seed in (8, 9):
        phantom_png(tmp_path / f"src{seed}", seed=seed)
    folder = tmp_path / "study"
    (folder / "images").mkdir(parents=True)
    rows = ["file,patient_id,age_years,sex"]
    for seed in (8, 9):
        png, row = phantom_png(tmp_path / f"src{seed}", seed=seed)
        shutil.copy(png, folder / "images" / f"{seed}.png")
        rows.append(f"images/{seed}.png,{row['patient_id']},{row['age_years']},{row['sex']}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    result = _screen(str(folder))
    assert result.exit_code == 0, result.output
    batch, _, predictions = _last_batch(embedded)
    assert batch.original_filename == "study" and batch.status is BatchStatus.COMPLETE and len(predictions) == 2


def test_a_batch_that_screens_nothing_exits_non_zero(embedded, tmp_path):
    png, _ = phantom_png(tmp_path / "one", seed=10)
    assert _screen(str(png), "--age", "66", "--sex", "F").exit_code == 0
    again = _screen(str(png), "--age", "66", "--sex", "F")  # an exact duplicate: nothing left to screen
    assert again.exit_code == 1 and "status:   needs_attention" in again.output
    young = _screen(str(phantom_png(tmp_path / "two", seed=11)[0]), "--age", "30", "--sex", "F")
    assert young.exit_code == 1 and "not eligible: 1 image" in young.output


def test_patient_fields_are_refused_for_archives_and_folders(embedded, tmp_path):
    (tmp_path / "folder").mkdir()
    result = CliRunner().invoke(cli, ["screen", str(tmp_path / "folder"), "--hospital", "DH1", "--age", "60"])
    assert result.exit_code == 2 and "for a single image" in result.output
