"""Evaluation metrics, calibration and the DXA-referral operating point.

All functions take class indices ``y_true`` (N,) and probabilities ``probs``
(N, C) as NumPy arrays, so they are checked against scikit-learn directly and
run the same for ``osteo train`` and ``osteo evaluate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_recall_fscore_support,
    roc_auc_score,
)

ECE_BINS = 15
DEFAULT_TARGET_SENSITIVITY = 0.90
_EPS = 1e-7


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Top-label ECE: mean |accuracy - confidence| over equal-width confidence bins, weighted by size."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        members = bins == b
        if members.any():
            ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


def reliability_bins(y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS) -> dict[str, list[float]]:
    """Per-bin mean confidence, accuracy and count, for the reliability diagram."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    out: dict[str, list[float]] = {"confidence": [], "accuracy": [], "count": [], "lower": [], "upper": []}
    for b in range(n_bins):
        members = bins == b
        if members.any():
            out["confidence"].append(float(confidence[members].mean()))
            out["accuracy"].append(float(correct[members].mean()))
            out["count"].append(float(members.sum()))
            out["lower"].append(float(edges[b]))
            out["upper"].append(float(edges[b + 1]))
    return out


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the calibrated probabilities for temperature ``T``."""
    logits = np.log(np.clip(probs, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def negative_log_likelihood(y_true: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y_true)), y_true], _EPS, 1.0))))


def fit_temperature(y_true: np.ndarray, probs: np.ndarray) -> float:
    """The temperature minimising validation NLL, searched on log T in [-3, 3].

    Optimising log T keeps T positive and makes halving and doubling equally easy.
    """
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(y_true, apply_temperature(probs, math.exp(log_t))),
        bounds=(-3.0, 3.0),
        method="bounded",
    )
    return float(math.exp(result.x))


def referral_threshold(
    y_true: np.ndarray, probs: np.ndarray, positive_class: int, target_sensitivity: float = DEFAULT_TARGET_SENSITIVITY
) -> dict[str, float]:
    """Highest threshold on P(positive) whose sensitivity reaches ``target_sensitivity``.

    "Refer for DXA when P(osteoporosis) >= threshold": the highest such threshold
    refers the fewest people while still catching the target share of cases.
    """
    positive = y_true == positive_class
    n_positive = int(positive.sum())
    if n_positive == 0:
        raise ValueError("no positive cases: the referral threshold cannot be set")
    scores = probs[:, positive_class]
    needed = math.ceil(target_sensitivity * n_positive - 1e-9)
    threshold = float(np.sort(scores[positive])[::-1][needed - 1])
    referred = scores >= threshold
    negatives = ~positive
    return {
        "threshold": threshold,
        "target_sensitivity": float(target_sensitivity),
        "sensitivity": float(referred[positive].mean()),
        "specificity": float((~referred[negatives]).mean()) if negatives.any() else float("nan"),
        "referred_fraction": float(referred.mean()),
    }


def macro_auc(y_true: np.ndarray, probs: np.ndarray) -> float | None:
    """Macro one-vs-rest AUC-ROC; None when a class is absent (AUC is then undefined)."""
    if len(np.unique(y_true)) < probs.shape[1]:
        return None
    return float(roc_auc_score(y_true, probs, multi_class="ovr", average="macro", labels=list(range(probs.shape[1]))))


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro F1, MCC, macro AUC, per-class precision/recall, confusion matrix, ECE."""
    labels = list(range(len(class_names)))
    y_pred = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "mcc": float(matthews_corrcoef(y_true, y_pred)),
        "auc_macro_ovr": macro_auc(y_true, probs),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "nll": negative_log_likelihood(y_true, probs),
        "ece": expected_calibration_error(y_true, probs),
    }


def evaluate(
    y_true: np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    temperature: float | None = None,
    target_sensitivity: float = DEFAULT_TARGET_SENSITIVITY,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Full evaluation of raw model probabilities.

    With ``temperature=None`` the temperature is fitted here (training: on the
    validation split); ``osteo evaluate`` passes the bundle's temperature and
    threshold instead, so it measures the operating point that was shipped.
    """
    fitted = temperature is None
    temperature = fit_temperature(y_true, probs) if temperature is None else float(temperature)
    calibrated = apply_temperature(probs, temperature)
    result = classification_metrics(y_true, calibrated, class_names)
    result["calibration"] = {
        "temperature": temperature,
        "fitted_here": fitted,
        "ece_before": expected_calibration_error(y_true, probs),
        "ece_after": result["ece"],
        "nll_before": negative_log_likelihood(y_true, probs),
        "nll_after": result["nll"],
    }
    positive = len(class_names) - 1  # osteoporosis, the last class
    if threshold is None:
        result["referral"] = referral_threshold(y_true, calibrated, positive, target_sensitivity)
    else:
        result["referral"] = operating_point(y_true, calibrated, positive, threshold)
    return result


def operating_point(y_true: np.ndarray, probs: np.ndarray, positive_class: int, threshold: float) -> dict[str, float]:
    """Sensitivity and specificity of a given referral threshold."""
    positive = y_true == positive_class
    referred = probs[:, positive_class] >= threshold
    return {
        "threshold": float(threshold),
        "sensitivity": float(referred[positive].mean()) if positive.any() else float("nan"),
        "specificity": float((~referred[~positive]).mean()) if (~positive).any() else float("nan"),
        "referred_fraction": float(referred.mean()),
    }
