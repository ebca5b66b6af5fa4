"""The Grad-CAM-on-hand evaluation maps a heatmap's peak back to the file's own pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from training.gradcam_eval import inside, on_mask, peak_in_file, tissue_mask  # noqa: E402


def test_a_peak_maps_back_into_the_region_the_model_saw() -> None:
    # A 200 x 100 (h x w) crop taken at (300, 40) of the file, letterboxed into 64 x 64:
    # scale 0.32, content 32 px wide, centred with 16 px of padding each side.
    heatmap = np.zeros((64, 64), np.float32)
    heatmap[32, 16] = 1.0  # first content column, middle row
    x, y = peak_in_file(heatmap, (200, 100), (300, 40, 400, 240))
    assert 300 <= x < 304 and 139 <= y < 144
    assert inside((x, y), (300, 40, 400, 240)) and not inside((x, y), (310, 40, 400, 240))


def test_a_peak_in_the_letterbox_padding_is_outside_and_a_flat_map_has_none() -> None:
    heatmap = np.zeros((64, 64), np.float32)
    heatmap[10, 2] = 1.0  # in the left padding
    point = peak_in_file(heatmap, (200, 100), (300, 40, 400, 240))
    assert point is not None and not inside(point, (300, 40, 400, 240))
    assert peak_in_file(np.zeros((64, 64), np.float32), (200, 100), (300, 40, 400, 240)) is None


def test_a_peak_on_a_square_crop_maps_one_to_one_and_the_fill_is_off_the_film() -> None:
    # A 400 x 400 square crop of a 400 x 200 (h x w) film: 100 px of fill each side (crop_bounds).
    region = (-100, 0, 300, 400)
    heatmap = np.zeros((64, 64), np.float32)
    heatmap[32, 32] = 1.0  # the middle of the input: the middle of the film
    x, y = peak_in_file(heatmap, (400, 400), region)
    assert 100 <= x < 110 and 200 <= y < 210
    heatmap[:] = 0.0
    heatmap[20, 3] = 1.0  # in the left fill
    point = peak_in_file(heatmap, (400, 400), region)
    assert point is not None and point[0] < 0 and not inside(point, (0, 0, 200, 400))


def test_the_tissue_mask_holds_the_hand_not_the_background_and_stays_in_the_box() -> None:
    film = np.full((120, 100), 0.1, np.float32)
    film[30:100, 40:60] = 0.5  # soft tissue
    film[40:90, 46:54] = 0.9  # bone
    box = (30, 20, 70, 110)
    mask = tissue_mask(film, box)
    assert mask[60, 42] and mask[60, 50]  # soft tissue and bone
    assert not mask[60, 33] and not mask[25, 50]  # background in the box
    assert not mask[:, :30].any() and not mask[:, 70:].any()  # nothing outside the box
    assert on_mask((50, 60), mask) and not on_mask((33, 60), mask) and not on_mask(None, mask)
    assert not on_mask((-5, 60), mask)
