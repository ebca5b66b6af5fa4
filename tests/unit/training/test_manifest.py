"""Manifest validation lists every bad row; the split never puts a patient on both sides."""

from __future__ import annotations

import numpy as np
import pytest

from training.manifest import ManifestError, read_manifest, split_by_patient


def _write(tmp_path, header: str, rows: list[str], images: list[str]) -> object:
    (tmp_path / "img").mkdir(exist_ok=True)
    for name in images:
        (tmp_path / "img" / name).write_bytes(b"x")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _balanced_rows(n_patients: int = 30) -> tuple[list[str], list[str]]:
    labels = ["normal", "Osteopenia", "OSTEOPOROSIS"]
    rows, images = [], []
    for p in range(n_patients):
        for k in range(1 + p % 2):
            name = f"p{p}_{k}.png"
            images.append(name)
            rows.append(f"img/{name},P{p},{50 + p},{'F' if p % 3 else 'm'},{labels[p % 3]}")
    return rows, images


def test_good_manifest_reads_with_labels_case_insensitive_and_age_in_months(tmp_path):
    rows, images = _balanced_rows()
    manifest = read_manifest(_write(tmp_path, "file,patient_id,age_years,sex,label", rows, images))
    assert len(manifest.rows) == len(rows)
    assert manifest.rows[0].age_months == 50 * 12
    assert manifest.rows[0].sex == "M"
    assert manifest.rows[2].label == "osteoporosis" or manifest.rows[3].label == "osteoporosis"
    assert manifest.rows[0].path.is_file()


def test_t_score_column_maps_to_who_class(tmp_path):
    rows = ["img/a.png,P1,800,F,-0.5", "img/b.png,P2,800,F,-1.8", "img/c.png,P3,800,F,-2.5"]
    manifest = read_manifest(
        _write(tmp_path, "file,patient_id,age_months,sex,t_score", rows, ["a.png", "b.png", "c.png"]),
        min_per_class=1,
    )
    assert [r.label for r in manifest.rows] == ["normal", "osteopenia", "osteoporosis"]


def test_every_bad_row_is_listed_with_its_line_number(tmp_path):
    rows, images = _balanced_rows()
    rows += [
        "img/missing.png,P90,60,F,normal",  # line len+2
        "img/p0_0.png,P91,140,F,normal",
        "img/p0_0.png,P92,60,X,normal",
        "img/p0_0.png,P93,60,F,broken-bone",
        "img/p0_0.png,P94,60,F,,-9.5",
    ]
    first_bad = len(rows) - 5 + 2
    path = _write(tmp_path, "file,patient_id,age_years,sex,label,t_score", rows, images)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    problems = info.value.problems
    assert [row for row, _ in problems] == list(range(first_bad, first_bad + 5))
    reasons = " | ".join(reason for _, reason in problems)
    for expected in ("image not found: img/missing.png", "age_years 140", "unknown sex 'X'",
                     "unknown label 'broken-bone'", "t_score -9.5 is outside"):
        assert expected in reasons
    assert f"row {first_bad}:" in str(info.value)


def test_missing_columns_and_rare_classes_are_reported(tmp_path):
    path = _write(tmp_path, "file,patient_id,sex", ["img/a.png,P1,F"], ["a.png"])
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert {reason for _, reason in info.value.problems} == {
        "missing column 'age_months' or 'age_years'", "missing column 'label' or 't_score'"}
    rows = [f"img/a.png,P{i},60,F,normal" for i in range(10)] + ["img/a.png,P99,60,F,osteoporosis"]
    with pytest.raises(ManifestError) as info:
        read_manifest(_write(tmp_path, "file,patient_id,age_years,sex,label", rows, ["a.png"]))
    text = str(info.value)
    assert "class 'osteopenia' has 0 image(s)" in text and "class 'osteoporosis' has 1 image(s)" in text


def test_split_is_80_20_by_patient_and_stratified(tmp_path):
    rng = np.random.default_rng(0)
    rows, images = [], []
    for p in range(300):
        label = rng.choice(["normal", "osteopenia", "osteoporosis"], p=[0.7, 0.21, 0.09])
        for k in range(int(rng.integers(1, 3))):
            images.append(f"p{p}_{k}.png")
            rows.append(f"img/p{p}_{k}.png,P{p},60,F,{label}")
    manifest = read_manifest(_write(tmp_path, "file,patient_id,age_years,sex,label", rows, images))
    train, val = split_by_patient(manifest)
    assert len(train) + len(val) == len(rows)
    assert len(val) / len(rows) == pytest.approx(0.2, abs=0.03)
    groups = manifest.groups()
    assert not set(groups[train]) & set(groups[val])
    labels = manifest.labels()
    for cls in range(3):
        assert np.mean(labels[val] == cls) == pytest.approx(np.mean(labels == cls), abs=0.03)
    again = split_by_patient(manifest)
    np.testing.assert_array_equal(again[1], val)


def test_hand_crop_column_is_yes_or_no(tmp_path):
    from training.manifest import ManifestError, read_manifest

    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "manifest.csv").write_text("file,patient_id,age_years,sex,label,hand_crop\n"
                                           "a.png,P1,60,F,normal,yes\na.png,P2,61,M,normal,\n")
    rows = read_manifest(tmp_path / "manifest.csv", min_per_class=0).rows
    assert [row.hand_crop for row in rows] == [True, False]
    (tmp_path / "manifest.csv").write_text("file,patient_id,age_years,sex,label,hand_crop\na.png,P1,60,F,normal,maybe\n")
    with pytest.raises(ManifestError, match="hand_crop 'maybe' is not yes or no"):
        read_manifest(tmp_path / "manifest.csv", min_per_class=0)
