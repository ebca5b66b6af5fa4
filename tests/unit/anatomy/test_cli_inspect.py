"""`osteo inspect`: the gate's verdict per file, folder or archive member, as JSON lines or a table."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tensorflow")

from screening.cli import cli
from screening.imaging import decode_image
from training.phantoms import write_dataset


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inspect")
    write_dataset(folder, 3, seed=11, size=700, class_balance=(0.5, 0.3, 0.2))
    return folder


def run(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["inspect", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def test_json_lines_for_a_folder_and_an_archive(phantom_dir: Path, tmp_path: Path) -> None:
    images = sorted((phantom_dir / "images").glob("*.png"))
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(images[0], "scans/a.png")
        zf.writestr("manifest.csv", "file,patient_id,age_years,sex\nscans/a.png,P1,60,F\n")
        zf.writestr("notes.txt", "not an image at all, just some words " * 10)
    rows = run(str(phantom_dir / "images"), str(archive))
    by_file = {row["file"]: row for row in rows}
    assert set(by_file) == {*(str(p) for p in images), f"{archive}!scans/a.png", f"{archive}!notes.txt"}
    for row in rows:
        assert set(row) >= {"file", "verdict", "reason", "body_part", "score", "hand_box", "gate_version"}
        assert row["gate_version"].startswith("hand-gate-")
    for name in [*(str(p) for p in images), f"{archive}!scans/a.png"]:
        assert by_file[name]["verdict"] == "accepted"
        x0, y0, x1, y1 = by_file[name]["hand_box"]
        assert 0 <= x0 < x1 <= 700 and 0 <= y0 < y1 <= 700  # the file's own pixel coordinates
    text = by_file[f"{archive}!notes.txt"]
    assert text["verdict"] == "rejected" and text["hand_box"] is None and text["score"] is None
    assert "not a PNG, JPEG, WebP, TIFF or DICOM" in text["reason"]


def test_webp_and_tiff_are_judged_like_the_same_png(phantom_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    png = min((phantom_dir / "images").glob("*.png"))
    pixels = decode_image(png.read_bytes()).pixels
    Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(tmp_path / "a.webp", lossless=True)
    Image.fromarray(np.round(pixels * 65535).astype(np.uint16)).save(tmp_path / "a.tif", compression="tiff_lzw")
    rows = {Path(row["file"]).name: row for row in run(str(png), str(tmp_path / "a.webp"), str(tmp_path / "a.tif"))}
    assert {name: row["verdict"] for name, row in rows.items()} == {png.name: "accepted", "a.webp": "accepted",
                                                                    "a.tif": "accepted"}
    assert rows["a.webp"]["hand_box"] == rows["a.tif"]["hand_box"] == rows[png.name]["hand_box"]


def test_table_and_summary(phantom_dir: Path) -> None:
    image = min((phantom_dir / "images").glob("*.png"))
    blank = phantom_dir / "blank.png"
    from screening.imaging.png import encode_png

    blank.write_bytes(encode_png(np.zeros((400, 400), np.uint8)))
    result = CliRunner().invoke(cli, ["inspect", str(image), str(blank)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["file", "verdict", "score"]
    assert "accepted" in lines[1] and "rejected" in lines[2] and "no hand found" in lines[2]
    assert lines[-1].startswith("2 files: 1 accepted, 0 with a warning, 1 rejected (hand-gate-")


def test_real_knee_and_hand_files(samples_dir: Path) -> None:
    knees = samples_dir / "knee-osteoporosis-roboflow"
    with (knees / "manifest.csv").open() as fh:
        knee = knees / next(csv.DictReader(fh))["file"]
    hand = min((samples_dir / "rsna-boneage-hand" / "images").glob("*.png"))
    rows = {Path(row["file"]).name: row for row in run(str(knee), str(hand))}
    assert rows[knee.name]["verdict"] == "rejected" and "knee" in rows[knee.name]["reason"]
    assert rows[knee.name]["body_part"] == "leg_knee_foot"
    accepted = rows[hand.name]
    assert accepted["verdict"] == "accepted"
    height, width = decode_image(hand.read_bytes()).pixels.shape
    x0, y0, x1, y1 = accepted["hand_box"]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
