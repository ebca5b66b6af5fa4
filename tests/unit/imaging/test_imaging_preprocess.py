"""The shared preprocessing: letterbox, CLAHE, 3 channels in [0, 255]."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.imaging import PreprocessParams, decode_image, preprocess


def test_output_contract(synth):
    prepared = preprocess(synth.phantom(300, 200) / 255.0, size=64)
    assert prepared.model_input.shape == (64, 64, 3) and prepared.model_input.dtype == np.float32
    assert prepared.clahe.shape == (64, 64) and prepared.clahe.dtype == np.uint8
    assert prepared.model_input.min() >= 0.0 and prepared.model_input.max() <= 255.0
    assert prepared.model_input.max() > 128  # uses the 0-255 range, not 0-1
    for channel in range(3):
        np.testing.assert_array_equal(prepared.model_input[:, :, channel], prepared.clahe)


def test_wide_image_is_letterboxed_with_exact_black(synth):
    wide = np.full((100, 400), 0.6, dtype=np.float32)
    wide[:, ::7] = 0.9  # texture so CLAHE has something to do
    clahe = preprocess(wide, size=64).clahe
    # 400 -> 64 wide, 100 -> 16 tall, centred: rows 24..39 hold the image
    assert np.all(clahe[:24] == 0) and np.all(clahe[40:] == 0)
    assert np.all(clahe[24:40] > 0)


def test_tall_image_is_padded_left_and_right():
    tall = np.full((400, 100), 0.5, dtype=np.float32)
    clahe = preprocess(tall, size=64).clahe
    assert np.all(clahe[:, :24] == 0) and np.all(clahe[:, 40:] == 0) and np.all(clahe[:, 24:40] > 0)


def test_clahe_raises_local_contrast_of_a_faint_image():
    rows, cols = np.mgrid[0:256, 0:256]
    faint = (0.45 + 0.05 * np.sin(cols / 6.0) * (rows > 128)).astype(np.float32)
    plain = cv2.resize(faint, (64, 64), interpolation=cv2.INTER_AREA) * 255
    enhanced = preprocess(faint, size=64).clahe.astype(np.float32)
    # clip_limit 2.0 caps the local slope near 2; without CLAHE the ratio would be 1
    assert enhanced[40:, :].std() > 1.5 * plain[40:, :].std()


def test_out_of_range_and_nan_pixels_are_tamed():
    pixels = np.full((50, 50), 2.0, dtype=np.float32)
    pixels[0, 0] = np.nan
    prepared = preprocess(pixels, size=32)
    assert np.isfinite(prepared.model_input).all() and prepared.model_input.max() <= 255


@pytest.mark.parametrize("shape", [(1, 500), (500, 1), (3, 3)])
def test_extreme_shapes_still_give_a_square(shape):
    assert preprocess(np.random.default_rng(0).random(shape), size=32).clahe.shape == (32, 32)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3)), np.zeros((0, 5)), np.zeros(10)])
def test_non_2d_input_is_refused(bad):
    with pytest.raises(ValueError, match="2-D"):
        preprocess(bad)


def test_params_round_trip_through_a_model_card():
    params = PreprocessParams(size=260, clip_limit=1.5, tile_grid=6)
    assert PreprocessParams.from_dict(params.to_dict()) == params
    assert PreprocessParams.from_dict({}) == PreprocessParams()
    with pytest.raises(ValueError, match="unknown"):
        PreprocessParams.from_dict({"size": 224, "gamma": 1.2})


@pytest.mark.parametrize("kwargs", [{"size": 4}, {"clip_limit": 0}, {"tile_grid": 0}, {"size": 16, "tile_grid": 32}])
def test_invalid_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        PreprocessParams(**kwargs)


def test_real_16bit_wrist_uses_the_full_output_range(sample_bytes):
    wrist = "grazpedwri-dx-osteopenia-wrist/images/2024_0939605258_01_WRI-L1_M013.png"
    pixels = decode_image(sample_bytes(wrist)).pixels
    prepared = preprocess(pixels)
    assert prepared.model_input.shape == (224, 224, 3)
    assert prepared.clahe.max() > 200 and (prepared.clahe > 0).mean() > 0.5
