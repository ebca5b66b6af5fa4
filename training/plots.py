"""Evaluation figures as PNG files (matplotlib, headless Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from training.metrics import reliability_bins  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: Path) -> Path:
    cm = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=20)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference (DXA class)")
    for (i, j), value in np.ndenumerate(cm):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > cm.max() / 2 else "black")
    ax.set_title("Confusion matrix")
    return _save(fig, path)


def plot_roc_curves(y_true: np.ndarray, probs: np.ndarray, class_names: Sequence[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for k, name in enumerate(class_names):
        positive = y_true == k
        if positive.any() and (~positive).any():
            fpr, tpr, _ = roc_curve(positive, probs[:, k])
            ax.plot(fpr, tpr, label=f"{name} vs rest")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("ROC curves (one vs rest)")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_training_curves(history: Mapping[str, Sequence[float]], path: Path) -> Path:
    """Loss and accuracy per epoch from a Keras ``History.history`` dict (phases concatenated)."""
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key in (metric, f"val_{metric}"):
            if history.get(key):
                ax.plot(range(1, len(history[key]) + 1), history[key], marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_reliability(y_true: np.ndarray, before: np.ndarray, after: np.ndarray, path: Path) -> Path:
    """Reliability diagram of top-label confidence, before and after temperature scaling."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for probs, label in ((before, "before scaling"), (after, "after scaling")):
        bins = reliability_bins(y_true, probs)
        ax.plot(bins["confidence"], bins["accuracy"], marker="o", label=label)
    ax.set_xlabel("confidence (top class)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
