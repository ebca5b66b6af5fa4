"""screening.measurement: what ingest records for one hand crop (file frame, scale, overlay, refusals)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.anatomy.radiogrammetry import METHOD_VERSION, measure_hand
from screening.measurement import INTERNAL_ERROR, measure_image, measurement_overlay_key
from training.phantoms import SCREENING_MIN_AGE, image_rng, plan_dataset, render_phantom


def _phantom(size: int, index: int, seed: int = 5) -> np.ndarray:
    spec = plan_dataset(index + 1, seed, min_age_years=SCREENING_MIN_AGE)[index]  # the same hand at any count
    return render_phantom(spec.patient, spec.image_number, size, image_rng(seed, spec))


@pytest.fixture(scope="module")
def measured_crop() -> np.ndarray:
    """The first of a few phantom hands (1280 px) that the method measures, cropped away from the film's corner."""
    for index in range(6):
        crop = np.ascontiguousarray(_phantom(1280, index)[20:1260, 60:1220])
        if measure_hand(crop).measured:
            return crop
    raise AssertionError("none of six phantom hands was measured: the tests below would prove nothing")


def test_lines_are_moved_into_the_files_frame_and_values_need_a_spacing_for_mm(measured_crop):
    here = measure_image(measured_crop, (0, 0), None)
    there = measure_image(measured_crop, (290, 30), None)  # as if the crop had been taken at x 290, y 30
    assert here.columns["measured"] is True and here.columns["radiogrammetry_version"] == METHOD_VERSION
    assert here.columns["cortical_thickness_mm"] is None and here.columns["measurement"]["index_value"] is None
    for a, b in zip(here.columns["measurement"]["bones"], there.columns["measurement"]["bones"], strict=True):
        assert a["outer_width"] == b["outer_width"] and a["unit"] == "px"
        if a["line"]:
            moved = [coordinate for x, y in a["line"] for coordinate in (x + 290, y + 30)]
            assert moved == pytest.approx([coordinate for point in b["line"] for coordinate in point], abs=0.011)
    in_mm = measure_image(measured_crop, (290, 30), 0.1)
    assert in_mm.columns["cortical_thickness_mm"] is not None
    assert in_mm.columns["measurement"]["pixel_spacing_mm"] == 0.1
    assert in_mm.columns["cortical_index"] == here.columns["cortical_index"]  # scale-free
    measured = [b for b in in_mm.columns["measurement"]["bones"] if b["measured"]]
    assert all(b["unit"] == "mm" for b in measured)


def test_overlay_is_the_crop_with_lines_drawn_shrunk_like_the_stored_image(measured_crop):
    png = measure_image(measured_crop, (0, 0), None).overlay_png
    assert png is not None
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    height, width = measured_crop.shape
    assert picture.ndim == 3 and max(picture.shape[:2]) == 1024
    assert abs(picture.shape[1] / picture.shape[0] - width / height) < 0.01
    assert float(np.abs(picture[..., 2].astype(int) - picture[..., 0].astype(int)).max()) > 100  # coloured lines


def test_a_refused_hand_is_recorded_with_its_reason_and_no_overlay():
    result = measure_image(np.full((400, 300), 0.4, np.float32), (5, 5), 0.1)
    assert result.overlay_png is None and result.columns["measured"] is False
    assert result.columns["measurement"]["reason"] and result.columns["cortical_index"] is None


def test_an_unexpected_error_is_a_recorded_refusal_not_an_exception(monkeypatch, caplog):
    monkeypatch.setattr("screening.measurement.measure_hand", lambda *a, **k: 1 / 0)
    result = measure_image(np.zeros((300, 200), np.float32), (0, 0), 0.1)
    assert result.overlay_png is None and result.columns["measured"] is False
    assert result.columns["measurement"]["reason"] == INTERNAL_ERROR
    assert [b["unit"] for b in result.columns["measurement"]["bones"]] == ["mm"] * 3
    assert "radiogrammetry failed unexpectedly" in caplog.text


def test_overlay_key_names_batch_and_image_only():
    assert measurement_overlay_key("b" * 32, 17) == f"overlays/{'b' * 32}/17/measurement.png"
