"""The phantom generator: reproducible, balanced, and density visible in the pixels."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import replace

import cv2
import numpy as np
import pytest

from training.phantoms import (
    hand_bones_unit,
    image_rng,
    mean_t_score,
    plan_dataset,
    render_phantom,
    write_dataset,
)
from training.who import who_class, who_class_index


def test_who_thresholds_are_inclusive_as_the_who_defines_them():
    assert who_class(-1.0) == "normal"
    assert who_class(-1.01) == "osteopenia"
    assert who_class(-2.49) == "osteopenia"
    assert who_class(-2.5) == "osteoporosis"
    assert who_class_index(np.array([0.5, -1.5, -3.0])).tolist() == [0, 1, 2]


def test_older_women_have_lower_mean_t_score():
    assert mean_t_score(80, True) < mean_t_score(80, False) < mean_t_score(40, False)


def test_default_balance_is_close_to_70_21_9_and_patients_can_have_two_images():
    specs = plan_dataset(3000, seed=3)
    counts = Counter(s.patient.label for s in specs)
    shares = [counts[c] / len(specs) for c in ("normal", "osteopenia", "osteoporosis")]
    assert shares == pytest.approx([0.70, 0.21, 0.09], abs=0.03)
    per_patient = Counter(s.patient.patient_id for s in specs)
    assert 1 < max(per_patient.values()) <= 2
    osteoporotic = [s.patient for s in specs if s.patient.label == "osteoporosis"]
    normal = [s.patient for s in specs if s.patient.label == "normal"]
    assert np.mean([p.age_years for p in osteoporotic]) > np.mean([p.age_years for p in normal]) + 5
    assert np.mean([p.sex == "F" for p in osteoporotic]) > np.mean([p.sex == "F" for p in normal])


def test_same_seed_same_pixels_other_seed_other_pixels():
    spec = plan_dataset(3, seed=7)[2]
    a = render_phantom(spec.patient, spec.image_number, 96, image_rng(7, spec))
    b = render_phantom(spec.patient, spec.image_number, 96, image_rng(7, spec))
    assert a.dtype == np.float32 and a.shape == (96, 96)
    np.testing.assert_array_equal(a, b)
    other = plan_dataset(3, seed=8)[2]
    c = render_phantom(other.patient, other.image_number, 96, image_rng(8, other))
    assert np.abs(a - c).mean() > 0.01


def test_lower_cortical_index_gives_darker_bones_at_the_same_exposure():
    spec = plan_dataset(1, seed=0)[0]
    dense = replace(spec.patient, cortical_index=0.55, trabecular_density=1.0)
    thin = replace(spec.patient, cortical_index=0.28, trabecular_density=0.4)
    img_dense = render_phantom(dense, 0, 256, np.random.default_rng(1))
    img_thin = render_phantom(thin, 0, 256, np.random.default_rng(1))
    bone = img_dense > np.percentile(img_dense, 90)
    assert img_dense[bone].mean() - img_thin[bone].mean() > 0.03
    assert len(hand_bones_unit(dense)) == 4 * 4 + 3 + 8 + 2


def test_write_dataset_writes_pngs_and_a_manifest_train_can_read(tmp_path):
    manifest = write_dataset(tmp_path, count=12, seed=1, size=64, bit_depth=16, workers=1)
    with manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12
    assert set(rows[0]) >= {"file", "patient_id", "age_years", "sex", "t_score", "label"}
    for row in rows:
        pixels = cv2.imread(str(tmp_path / row["file"]), cv2.IMREAD_UNCHANGED)
        assert pixels.dtype == np.uint16 and pixels.shape == (64, 64)
        assert row["label"] == who_class(float(row["t_score"]))
    assert "SYNTHETIC" in (tmp_path / "SYNTHETIC.txt").read_text()


def test_parallel_generation_gives_identical_files(tmp_path):
    write_dataset(tmp_path / "a", count=6, seed=5, size=64, workers=1)
    write_dataset(tmp_path / "b", count=6, seed=5, size=64, workers=2)
    for name in sorted(p.name for p in (tmp_path / "a" / "images").iterdir()):
        assert (tmp_path / "a" / "images" / name).read_bytes() == (tmp_path / "b" / "images" / name).read_bytes()
    assert (tmp_path / "a" / "manifest.csv").read_text() == (tmp_path / "b" / "manifest.csv").read_text()


def test_osteo_synth_command(tmp_path):
    from click.testing import CliRunner

    from screening.cli import cli

    result = CliRunner().invoke(cli, ["synth", str(tmp_path), "--count", "5", "--size", "48", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output
    assert len(list((tmp_path / "images").glob("*.png"))) == 5
