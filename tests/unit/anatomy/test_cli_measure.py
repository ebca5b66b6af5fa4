"""``osteo measure``: one JSON object per image, in the file's own pixel coordinates."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from pydicom.dataset import Dataset

from screening.cli import cli
from screening.imaging.dicom import read_pixel_spacing
from tests.unit.imaging.conftest import dicom_bytes

BONE_KEYS = {"bone", "measured", "reason", "quality", "outer_width", "inner_width", "length", "unit", "line"}


def _png(path, array: np.ndarray) -> None:
    Image.fromarray(array).save(path)


def _records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_has_one_object_per_image_with_the_documented_shape(tmp_path):
    _png(tmp_path / "blank.png", np.full((300, 260), 90, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    result = CliRunner().invoke(cli, ["measure", "--json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = _records(result.output)
    assert [r["file"].rsplit("/", 1)[-1] for r in records] == ["blank.png", "notes.txt"]
    blank, text = records
    assert blank["measured"] is False and blank["reason"]
    assert blank["cortical_index"] is None and blank["cortical_thickness_mm"] is None
    assert [b["bone"] for b in blank["bones"]] == ["MC2", "MC3", "MC4"]
    for bone in blank["bones"]:
        assert set(bone) >= BONE_KEYS and bone["measured"] is False and bone["unit"] == "px"
    assert text["measured"] is False and "not a PNG, JPEG, WebP, TIFF or DICOM" in text["reason"]


def test_archives_are_read_member_by_member_and_overlays_written(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.full((300, 260), 90, np.uint8)).save(buffer, format="PNG")
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/one.png", buffer.getvalue())
        zf.writestr("manifest.csv", "file,patient_id\n")
    overlays = tmp_path / "overlays"
    result = CliRunner().invoke(cli, ["measure", "--json", "--overlay-dir", str(overlays), str(archive)])
    assert result.exit_code == 0, result.output
    (record,) = _records(result.output)
    assert record["file"].endswith("batch.zip!a/one.png")
    (overlay,) = overlays.glob("*.png")
    assert Image.open(overlay).size == (260, 300) and Image.open(overlay).mode == "RGB"


def test_measured_real_hand_gives_lines_in_the_files_pixel_frame(samples_dir, tmp_path):
    path = samples_dir / "rsna-boneage-hand" / "images" / "10668.png"
    width, height = Image.open(path).size
    result = CliRunner().invoke(cli, ["measure", "--json", "--pixel-spacing", "0.1", str(path)])
    assert result.exit_code == 0, result.output
    (record,) = _records(result.output)
    assert record["measured"] is True and 0.05 < record["cortical_index"] < 0.95
    assert record["cortical_thickness_mm"] is not None and record["index_name"] == "BHI"
    measured = [b for b in record["bones"] if b["measured"]]
    assert len(measured) >= 2
    for bone in measured:
        assert bone["unit"] == "mm" and bone["outer_width"] > bone["inner_width"] > 0
        for x, y in bone["line"]:
            assert 0 <= x < width and 0 <= y < height
    text = CliRunner().invoke(cli, ["measure", str(path)])
    assert "cortical index" in text.output


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"PixelSpacing": [0.15, 0.15]}, 0.15),
        ({"ImagerPixelSpacing": [0.2, 0.2]}, 0.2),
        ({"PixelSpacing": [0.1, 0.1], "ImagerPixelSpacing": [0.12, 0.12]}, 0.1),
        ({"PixelSpacing": [0.1, 0.2]}, None),  # anisotropic: no single scale, so none
        ({}, None),
    ],
)
def test_dicom_pixel_spacing_is_read_only_when_it_is_one_isotropic_value(tags, expected):
    ds = Dataset()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    assert read_pixel_spacing(ds) == (pytest.approx(expected) if expected else None)


def test_dicom_files_carry_their_spacing_into_millimetres(tmp_path):
    stored = np.random.default_rng(0).integers(200, 3000, (320, 280)).astype(np.uint16)
    path = tmp_path / "hand.dcm"
    path.write_bytes(dicom_bytes(stored, PixelSpacing=[0.15, 0.15]))
    result = CliRunner().invoke(cli, ["measure", "--json", str(path)])
    (record,) = _records(result.output)
    assert all(b["unit"] == "mm" for b in record["bones"])
