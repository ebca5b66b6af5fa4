"""The Grad-CAM-on-hand evaluation maps a heatmap's peak back to the file's own pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from training.gradcam_eval import inside, peak_in_file  # noqa: E402


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
