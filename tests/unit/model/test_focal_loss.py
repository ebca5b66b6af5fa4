"""The focal loss matches its formula, reduces to cross-entropy, and survives save/reload."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from screening.model import CategoricalFocalLoss

Y_TRUE = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
Y_PRED = np.array([[0.2, 0.7, 0.1], [0.05, 0.9, 0.05]], np.float32)


def _per_sample(loss: keras.losses.Loss, y_true, y_pred) -> np.ndarray:
    return keras.ops.convert_to_numpy(loss.call(keras.ops.array(y_true), keras.ops.array(y_pred)))


def test_matches_hand_computation() -> None:
    per_sample = _per_sample(CategoricalFocalLoss(gamma=2.0, alpha=0.25), Y_TRUE, Y_PRED)
    expected = [-0.25 * 0.3**2 * math.log(0.7), -0.25 * 0.95**2 * math.log(0.05)]
    np.testing.assert_allclose(per_sample, expected, rtol=1e-5)


def test_gamma0_alpha1_is_categorical_crossentropy() -> None:
    rng = np.random.default_rng(0)
    y_pred = rng.dirichlet(np.ones(3), size=16).astype(np.float32)
    y_true = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    focal = CategoricalFocalLoss(gamma=0.0, alpha=1.0)(y_true, y_pred)
    crossentropy = keras.losses.CategoricalCrossentropy()(y_true, y_pred)
    assert float(focal) == pytest.approx(float(crossentropy), rel=1e-5)


def test_from_logits_equals_softmax_probabilities() -> None:
    logits = np.array([[1.0, 2.0, -1.0], [3.0, 0.0, 0.5]], np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    a = CategoricalFocalLoss(from_logits=True)(Y_TRUE, logits)
    b = CategoricalFocalLoss()(Y_TRUE, probabilities)
    assert float(a) == pytest.approx(float(b), rel=1e-5)


def test_easy_samples_are_down_weighted_relative_to_crossentropy() -> None:
    y_true = np.array([[1, 0, 0], [1, 0, 0]], np.float32)
    y_pred = np.array([[0.95, 0.03, 0.02], [0.3, 0.4, 0.3]], np.float32)
    focal = _per_sample(CategoricalFocalLoss(alpha=1.0), y_true, y_pred)
    crossentropy = -np.log(y_pred[:, 0])
    ratio = focal / crossentropy
    assert ratio[0] < 0.01 < 0.4 < ratio[1]


def test_sample_weights_apply_per_sample() -> None:
    loss = CategoricalFocalLoss()
    per_sample = _per_sample(loss, Y_TRUE, Y_PRED)
    weighted = loss(Y_TRUE, Y_PRED, sample_weight=np.array([3.0, 0.0], np.float32))
    assert float(weighted) == pytest.approx(3.0 * per_sample[0] / 2, rel=1e-5)


def test_rejects_negative_gamma() -> None:
    with pytest.raises(ValueError, match="gamma"):
        CategoricalFocalLoss(gamma=-1.0)


def _tiny_model() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


def test_fit_with_class_weight_and_reload_without_custom_objects(tmp_path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    model = _tiny_model()
    model.compile(optimizer="adam", loss=CategoricalFocalLoss(gamma=1.5, alpha=0.5))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, class_weight={0: 1.0, 1: 2.0, 2: 5.0})
    assert all(np.isfinite(history.history["loss"]))
    model.save(tmp_path / "m.keras")

    reloaded = keras.models.load_model(tmp_path / "m.keras")  # no custom_objects

    assert isinstance(reloaded.loss, CategoricalFocalLoss)
    assert (reloaded.loss.gamma, reloaded.loss.alpha) == (1.5, 0.5)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
