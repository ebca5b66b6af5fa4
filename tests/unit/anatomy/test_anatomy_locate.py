"""Hand localisation on small synthetic films: the box holds the limb, not the film's frame."""

from __future__ import annotations

import numpy as np
import pytest

from screening.anatomy.locate import locate_hand
from screening.anatomy.views import WORK_SIDE, gate_views, working_copy
from screening.imaging.preprocess import PreprocessParams
from training.phantoms import render_phantom, sample_patient


def film(height: int = 360, width: int = 300, seed: int = 0) -> np.ndarray:
    """Dark field; a textured 'hand' (palm + fingers + forearm entering from the bottom);
    a bright collimation band along the top; an 'L' marker in the top-left corner."""
    rng = np.random.default_rng(seed)
    image = 0.08 + rng.normal(0, 0.01, (height, width))
    palm = (slice(150, 260), slice(100, 200))
    image[palm] = 0.45
    for finger in range(4):
        x = 102 + finger * 26
        image[30:150, x : x + 18] = 0.45  # fingers reach into the shutter's edge
    image[260:height, 120:180] = 0.45  # forearm to the bottom edge
    bones = rng.random((height, width)) < 0.5
    hand = image > 0.3
    image[hand & bones] += 0.2  # texture: bone edges
    image[:30] = 0.95  # collimation band
    image[45:60, 15:25] = 0.95  # side marker, far from the hand
    return np.clip(image, 0, 1).astype(np.float32)


def test_box_holds_the_hand_and_leaves_band_and_marker_out() -> None:
    box = locate_hand(film())
    assert box is not None
    x0, y0, x1, y1 = box
    assert x0 <= 100 and x1 >= 200 and y0 <= 35 and y1 >= 350  # the whole hand and forearm
    assert y0 >= 30 - 0.02 * 360  # below the collimation band (the box has a 2 % pad)
    assert x0 > 25  # right of the marker


def test_blank_or_flat_image_has_no_hand() -> None:
    assert locate_hand(np.zeros((200, 200), np.float32)) is None
    assert locate_hand(np.full((200, 200), 0.5, np.float32)) is None


def test_phantom_hand_is_located_inside_the_image() -> None:
    rng = np.random.default_rng(7)
    patient = sample_patient(rng, "P0001", (0.7, 0.2, 0.1))
    image = render_phantom(patient, 0, 512, rng)
    work, scale = working_copy(image)
    box = locate_hand(work)
    assert box is not None
    x0, y0, x1, y1 = box
    assert 0 <= x0 < x1 <= work.shape[1] and 0 <= y0 < y1 <= work.shape[0]
    assert (x1 - x0) * (y1 - y0) > 0.2 * work.size  # the hand, not a marker
    assert scale == pytest.approx(WORK_SIDE / 512)


def test_working_copy_shrinks_never_enlarges() -> None:
    small, scale = working_copy(np.zeros((100, 80), np.float32))
    assert small.shape == (100, 80) and scale == 1.0
    large, scale = working_copy(np.zeros((2000, 1000), np.float32))
    assert large.shape == (WORK_SIDE, WORK_SIDE // 2) and scale == pytest.approx(WORK_SIDE / 2000)


def test_gate_views_model_input_is_the_letterboxed_clahe_square() -> None:
    views = gate_views(film(), PreprocessParams(size=128))
    assert views.model_input.shape == (128, 128)
    assert views.model_input.dtype == np.float32
    assert views.model_input.min() >= 0.0 and views.model_input.max() <= 1.0
