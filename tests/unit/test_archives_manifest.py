"""manifest.csv: the optional pixel_spacing_mm column (millimetres only from a scale someone gave)."""

from __future__ import annotations

import pytest

from screening.archives import parse_manifest

HEADER = "file,patient_id,age_years,sex,pixel_spacing_mm\n"


def _manifest(*rows: str, header: str = HEADER):  # type: ignore[no-untyped-def]
    return parse_manifest((header + "\n".join(rows) + "\n").encode())


@pytest.mark.parametrize("raw, expected", [("0.1", 0.1), ("0.143", 0.143), (" 0.05 ", 0.05), ("2", 2.0),
                                           ("0.01", 0.01), ("1e-1", 0.1)])
def test_a_plausible_spacing_is_kept_on_its_row(raw, expected):
    manifest = _manifest(f"a.png,P1,60,F,{raw}")
    assert manifest.rows["a.png"].pixel_spacing_mm == pytest.approx(expected)
    assert not manifest.invalid and not manifest.problems


def test_an_empty_cell_or_a_missing_column_means_unknown():
    assert _manifest("a.png,P1,60,F,").rows["a.png"].pixel_spacing_mm is None
    without = _manifest("a.png,P1,60,F", header="file,patient_id,age_years,sex\n")
    assert without.rows["a.png"].pixel_spacing_mm is None and not without.problems


@pytest.mark.parametrize("raw, words", [
    ("3", "between 0.01 and 2.0"), ("0", "between 0.01 and 2.0"), ("-0.1", "between 0.01 and 2.0"),
    ("100", "between 0.01 and 2.0"), ("0.005", "between 0.01 and 2.0"), ("0,1", "must be a number"),
    ("0.1mm", "must be a number"), ("nan", "must be a number"), ("inf", "must be a number"),
    ("=1+1", "must be a number"),
])
def test_an_invalid_spacing_makes_only_its_row_unusable_with_the_reason(raw, words):
    manifest = _manifest(f'a.png,P1,60,F,"{raw}"', "b.png,P2,61,M,0.1")
    assert "a.png" not in manifest.rows and manifest.rows["b.png"].pixel_spacing_mm == 0.1
    reason = manifest.invalid["a.png"]
    assert reason.startswith("manifest.csv line 2: pixel_spacing_mm") and words in reason, reason
    assert repr(raw)[:12] in reason or "must be a number" in reason
