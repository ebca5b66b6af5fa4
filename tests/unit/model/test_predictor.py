"""Predictor: batched results equal per-image ones, calibration and validation work."""

from __future__ import annotations

import numpy as np
import pytest

from screening.model import load_bundle
from screening.model.inference import Predictor

from .conftest import SIZE, make_inputs


@pytest.fixture(scope="module")
def predictor(bundle_dir) -> Predictor:
    return Predictor(load_bundle(bundle_dir), batch_size=4)


def test_probabilities_equal_the_model_and_heatmaps_are_normalised(predictor) -> None:
    images, tabular = make_inputs(6)
    probabilities, heatmaps = predictor.predict_arrays(images, tabular)
    expected = predictor.bundle.model.predict({"image": images, "tabular": tabular}, verbose=0)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)
    assert heatmaps.shape == (6, SIZE, SIZE) and heatmaps.dtype == np.float32
    assert heatmaps.min() >= 0.0 and heatmaps.max() <= 1.0
    assert np.allclose(heatmaps.max(axis=(1, 2)), 1.0)  # each map is scaled to its own peak


def test_batched_equals_one_image_at_a_time(predictor) -> None:
    images, tabular = make_inputs(7, seed=1)  # 7 = a full batch of 4 plus a ragged 3
    probabilities, heatmaps = predictor.predict_arrays(images, tabular)
    for i in range(len(images)):
        p, h = predictor.predict_arrays(images[i:i + 1], tabular[i:i + 1])
        np.testing.assert_allclose(p[0], probabilities[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h[0], heatmaps[i], atol=1e-4)


def test_one_trace_serves_every_batch_size(predictor) -> None:
    for n in (1, 3, 4, 9):
        predictor.predict_arrays(*make_inputs(n))
    assert predictor._step.experimental_get_tracing_count() == 1


def test_temperature_scaling(bundle_dir) -> None:
    bundle = load_bundle(bundle_dir)
    images, tabular = make_inputs(5, seed=2)
    plain, plain_maps = Predictor(bundle).predict_arrays(images, tabular)
    bundle.card.calibration_temperature = 2.0
    softened, softened_maps = Predictor(bundle).predict_arrays(images, tabular)
    expected = np.sqrt(plain) / np.sqrt(plain).sum(axis=1, keepdims=True)  # softmax(log p / 2)
    np.testing.assert_allclose(softened, expected, rtol=1e-4)
    np.testing.assert_array_equal(softened.argmax(1), plain.argmax(1))
    np.testing.assert_allclose(softened_maps, plain_maps, atol=1e-6)  # Grad-CAM ignores T


def test_predictions_carry_label_version_and_referral(predictor) -> None:
    images, tabular = make_inputs(3, seed=3)
    probabilities, _ = predictor.predict_arrays(images, tabular)
    results = predictor.predict_batch(images, tabular)
    for result, probs in zip(results, probabilities):
        assert result.model_version == predictor.bundle.version
        assert result.label == predictor.card.class_names[int(np.argmax(probs))]
        assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert result.refer == (result.probabilities["osteoporosis"] >= 0.5)
        assert result.heatmap.shape == (SIZE, SIZE)


def test_empty_batch(predictor) -> None:
    probabilities, heatmaps = predictor.predict_arrays(*make_inputs(0))
    assert probabilities.shape == (0, 3) and heatmaps.shape == (0, SIZE, SIZE)


def test_wrong_shapes_are_rejected(predictor) -> None:
    images, tabular = make_inputs(2)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 32, 32, 3\)"):
        predictor.predict_arrays(images[:, :16], tabular)
    with pytest.raises(ValueError, match=r"tabular must have shape \(2, 2\)"):
        predictor.predict_arrays(images, tabular[:1])
