"""Metrics agree with scikit-learn; temperature scaling fixes an over-confident model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score

from training.metrics import (
    apply_temperature,
    classification_metrics,
    evaluate,
    expected_calibration_error,
    fit_temperature,
    referral_threshold,
)

CLASSES = ("normal", "osteopenia", "osteoporosis")


def _noisy_predictions(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    logits = rng.normal(0, 1.0, (n, 3))
    logits[np.arange(n), y] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs


def test_metrics_match_scikit_learn():
    y, probs = _noisy_predictions()
    m = classification_metrics(y, probs, CLASSES)
    pred = probs.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(np.mean(pred == y))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["mcc"] == pytest.approx(matthews_corrcoef(y, pred))
    assert m["auc_macro_ovr"] == pytest.approx(roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    cm = np.array(m["confusion_matrix"])
    assert cm.sum() == len(y) and np.trace(cm) == np.sum(pred == y)
    recall = m["per_class"]["osteoporosis"]["recall"]
    assert recall == pytest.approx(np.mean(pred[y == 2] == 2))


def test_known_small_example():
    y = np.array([0, 0, 1, 2])
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7]])
    m = classification_metrics(y, probs, CLASSES)
    assert m["accuracy"] == 0.75
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert m["per_class"]["osteopenia"]["precision"] == 0.5
    assert m["auc_macro_ovr"] == 1.0


def test_auc_is_none_when_a_class_is_absent():
    y = np.array([0, 0, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    assert classification_metrics(y, probs, CLASSES)["auc_macro_ovr"] is None


def test_ece_of_a_perfectly_calibrated_bin_is_zero_and_of_overconfidence_is_the_gap():
    y = np.array([0] * 8 + [1] * 2)
    probs = np.tile([0.8, 0.1, 0.1], (10, 1))  # 80 % confident, 80 % right
    assert expected_calibration_error(y, probs) == pytest.approx(0.0)
    over = np.tile([0.99, 0.005, 0.005], (10, 1))
    assert expected_calibration_error(y, over) == pytest.approx(0.19)


def test_temperature_above_one_repairs_an_overconfident_model():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, (3000, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in probs])  # labels drawn from probs: calibrated by construction
    overconfident = apply_temperature(probs, 1 / 3.0)  # sharpen: logits x3
    t = fit_temperature(y, overconfident)
    assert t == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(y, overconfident)
    after = expected_calibration_error(y, apply_temperature(overconfident, t))
    assert before > 0.1 and after < before / 3
    np.testing.assert_array_equal(apply_temperature(overconfident, t).argmax(1), overconfident.argmax(1))


def test_referral_threshold_is_the_highest_reaching_target_sensitivity():
    y = np.array([2] * 10 + [0] * 10)
    p_osteo = np.concatenate([np.linspace(0.95, 0.05, 10), np.linspace(0.5, 0.0, 10)])
    probs = np.stack([1 - p_osteo, np.zeros(20), p_osteo], axis=1)
    op = referral_threshold(y, probs, positive_class=2, target_sensitivity=0.9)
    assert op["threshold"] == pytest.approx(np.linspace(0.95, 0.05, 10)[8])  # 9 of 10 caught
    assert op["sensitivity"] == pytest.approx(0.9)
    higher = probs[:, 2] >= op["threshold"] + 1e-9
    assert higher[y == 2].mean() < 0.9  # any higher threshold misses the target
    assert op["specificity"] == pytest.approx(np.mean(p_osteo[10:] < op["threshold"]))


def test_evaluate_fits_or_reuses_temperature_and_threshold():
    y, probs = _noisy_predictions(500, seed=2)
    fitted = evaluate(y, probs, CLASSES)
    assert fitted["calibration"]["fitted_here"] is True
    assert fitted["referral"]["sensitivity"] >= 0.9
    reused = evaluate(y, probs, CLASSES, temperature=2.0, threshold=0.3)
    assert reused["calibration"]["temperature"] == 2.0
    assert reused["referral"]["threshold"] == 0.3
