"""Overlays decode as PNG of the CLAHE image's size, with the heatmap's colours on top."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.model.overlays import blend_overlay, render_overlays


def _inputs(size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    clahe = np.tile(np.linspace(0, 255, size, dtype=np.uint8), (size, 1))
    heatmap = np.zeros((size, size), np.float32)
    heatmap[: size // 4, : size // 4] = 1.0  # hot top-left corner
    return clahe, heatmap


def test_three_colormaps_as_png_of_the_right_size() -> None:
    clahe, heatmap = _inputs()
    overlays = render_overlays(clahe, heatmap)
    assert set(overlays) == {"jet", "hot", "viridis"}
    decoded = {name: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
               for name, data in overlays.items()}
    for name, data in overlays.items():
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert decoded[name].shape == (48, 48, 3)
    assert not np.array_equal(decoded["jet"], decoded["viridis"])


def test_hot_region_is_coloured_and_cold_region_keeps_the_image() -> None:
    clahe, heatmap = _inputs()
    jet = blend_overlay(clahe, heatmap, "jet")
    b, g, r = jet[2, 2].astype(int)
    assert r > b + 50  # JET's hot end is red
    cold = jet[40, 40].astype(int)
    grey = int(clahe[40, 40])
    # cold JET is dark blue: blue rises, red and green follow the grey image at 60 %
    assert abs(cold[2] - round(0.6 * grey)) <= 1 and cold[0] > cold[2]


def test_heatmap_of_another_size_is_resized() -> None:
    clahe, _ = _inputs(64)
    overlays = render_overlays(clahe, np.ones((8, 8), np.float32), colormaps=("hot",))
    image = cv2.imdecode(np.frombuffer(overlays["hot"], np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (64, 64, 3)


@pytest.mark.parametrize("clahe, heatmap, colormap, message", [
    (np.zeros((8, 8), np.float32), np.zeros((8, 8)), "jet", "2-D uint8"),
    (np.zeros((8, 8), np.uint8), np.zeros((8, 8, 1)), "jet", "heatmap must be 2-D"),
    (np.zeros((8, 8), np.uint8), np.zeros((8, 8)), "rainbow", "unknown colormap"),
])
def test_bad_inputs(clahe, heatmap, colormap, message) -> None:
    with pytest.raises(ValueError, match=message):
        blend_overlay(clahe, heatmap, colormap)
