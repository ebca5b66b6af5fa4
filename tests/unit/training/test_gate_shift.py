"""The gate's acquisition-style transforms, its shifted validation set and its threshold rule."""

from __future__ import annotations

import numpy as np
import pytest

from training.gate import choose_thresholds
from training.gate_data import yolo_box
from training.gate_shift import STYLES, closeup, letterbox, shift, shifted_validation


def film(height: int = 300, width: int = 240) -> np.ndarray:
    """A gray field with a bright 'limb' band down the middle (float32 in [0, 1])."""
    image = np.full((height, width), 0.2, np.float32)
    image[:, width // 3 : 2 * width // 3] = 0.8
    return image


@pytest.mark.parametrize("style", STYLES)
def test_every_style_gives_a_valid_working_copy(style):
    out = shift(film(), "leg_knee_foot", (80, 0, 160, 300), np.random.default_rng(0), (style,))
    assert out.dtype == np.float32 and out.ndim == 2
    assert min(out.shape) >= 16 and max(out.shape) <= 384
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_uint8_working_copies_are_read_as_shares_of_255():
    image = film()
    as_8bit = np.round(image * 255).astype(np.uint8)
    rotated = ("rotate",)
    a = shift(image, "hand_wrist", None, np.random.default_rng(3), rotated)
    b = shift(as_8bit, "hand_wrist", None, np.random.default_rng(3), rotated)
    assert np.abs(a - b).max() < 0.01


def test_leg_films_get_strong_crops_and_hands_keep_their_located_box():
    image = np.random.default_rng(0).random((384, 300)).astype(np.float32)
    box = (50, 40, 250, 360)
    legs = [closeup(image, "leg_knee_foot", box, np.random.default_rng(i)).size for i in range(30)]
    hands = [closeup(image, "hand_wrist", box, np.random.default_rng(i)) for i in range(30)]
    assert max(legs) <= 0.66 * image.size  # at most 65 % of the longer side, squared-ish
    # A hand crop keeps at least 90 % of the located box along each side.
    assert all(h.shape[0] >= 0.9 * 320 - 1 and h.shape[1] >= 0.9 * 200 - 1 for h in hands)


def test_a_knee_box_gives_a_closeup_of_the_knee():
    image = np.zeros((384, 384), np.float32)
    image[150:230, 150:230] = 1.0  # the "knee" inside its annotated box
    crop = closeup(image, "leg_knee_foot", (150, 150, 230, 230), np.random.default_rng(0))
    assert max(crop.shape) <= 1.8 * 80 * 1.16 + 1  # box side x at most 1.8, stretched by the aspect
    assert crop.mean() > 0.2  # the knee is in view


def test_letterbox_puts_the_film_in_a_darker_larger_frame():
    out = letterbox(film(), "hand_wrist", None, np.random.default_rng(5))
    assert out.shape[0] >= 300 * 0.95 * 384 / max(out.shape) - 1
    assert np.percentile(out, 5) < 0.1  # the frame is dark, the film's own field is 0.2


def test_shifted_validation_is_fixed_by_key_and_style_not_by_order():
    works = [np.round(film() * 255).astype(np.uint8), np.round(film(200, 320) * 255).astype(np.uint8)]
    labels, boxes, keys = ["hand_wrist", "shoulder_chest"], [None, None], ["a", "b"]
    first = shifted_validation(works, labels, boxes, keys, lambda w: w[:8, :8].copy())
    again = shifted_validation(works[::-1], labels[::-1], boxes, keys[::-1], lambda w: w[:8, :8].copy())
    assert [(i, style) for i, style, _ in first] == [(i, s) for i in range(2) for s in (*STYLES, "mixed")]
    by_key = {(keys[i], style): x for i, style, x in first}
    for i, style, x in again:
        np.testing.assert_array_equal(x, by_key[(keys[::-1][i], style)])


def test_thresholds_weight_each_film_as_told():
    p_hand = np.array([0.95, 0.9, 0.2, 0.1, 0.6, 0.55])
    is_hand = np.array([True, True, False, False, False, False])
    # accept: above every non-hand, ties broken towards 0.5; warn: just above 99 % of the non-hands.
    assert choose_thresholds(p_hand, is_hand) == {"accept": 0.61, "warn": 0.605}
    # The two non-hands at 0.55-0.6 weigh almost nothing: 99 % of the non-hands' weight lies at or
    # below 0.2, so the warning band widens down to its floor (half the accept threshold).
    light = choose_thresholds(p_hand, is_hand, np.array([1, 1, 1, 1, 1e-3, 1e-3]))
    assert light == {"accept": 0.61, "warn": 0.305}


def test_yolo_box_reads_the_first_box_as_shares(tmp_path):
    label = tmp_path / "knee.txt"
    label.write_text("0 0.5 0.4 0.2 0.3\n0 0.1 0.1 0.1 0.1\n")
    assert yolo_box(label) == pytest.approx((0.4, 0.25, 0.6, 0.55))
    assert yolo_box(tmp_path / "missing.txt") is None
