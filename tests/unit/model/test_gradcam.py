"""Grad-CAM points at the evidence.

A compact model is trained on noisy images whose class is decided by the SHAPE of one
bright mark (disc, horizontal bar, vertical bar) placed at a random position; the
heatmap of a correct prediction must peak on the mark. Position is random on purpose:
a class decided by *where* a mark is can be read from global-average-pooled features
only through border (padding) effects, and the network then rightly attends to the
border, so such a task would test the data, not Grad-CAM.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from screening.model import CategoricalFocalLoss, ModelCard, build_fusion_model, save_bundle
from screening.model.inference import Predictor

SIZE = 96  # stride-8 features: a 12x12 Grad-CAM grid, fine enough to locate a 16 px mark
MARGIN = 10
# class index -> (half height, half width) of the bright mark
MARKS = {0: (4, 4), 1: (2, 8), 2: (8, 2)}


def mark_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (n, SIZE, SIZE, 3) in [0, 255], labels (n,), mark centres (n, 2) as (row, col)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.uniform(0, 60, (n, SIZE, SIZE)).astype(np.float32)
    centres = rng.integers(MARGIN, SIZE - MARGIN, (n, 2))
    for image, label, (cy, cx) in zip(images, labels, centres):
        half_h, half_w = MARKS[int(label)]
        image[cy - half_h:cy + half_h, cx - half_w:cx + half_w] += 180
    images = np.repeat(np.clip(images, 0, 255)[..., None], 3, axis=-1)
    return images, labels, centres


def _tabular(n: int) -> np.ndarray:
    return np.tile(np.array([[0.6, 1.0]], np.float32), (n, 1))


@pytest.fixture(scope="module")
def trained_predictor(tmp_path_factory) -> Predictor:
    keras.utils.set_random_seed(3)
    images, labels, _ = mark_images(480, seed=1)
    tabular = _tabular(len(images))
    model = build_fusion_model("compact", SIZE, bn_momentum=0.9)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=CategoricalFocalLoss(alpha=1.0))
    model.fit({"image": images, "tabular": tabular}, np.eye(3)[labels], epochs=6,
              batch_size=32, verbose=0)
    card = ModelCard(name="blobs", backbone="compact", input_size=SIZE, synthetic_demo=True)
    bundle = save_bundle(model, card, tmp_path_factory.mktemp("gradcam") / "bundle")
    return Predictor(bundle, batch_size=16)


def _box_distance(row: int, col: int, centre: np.ndarray, label: int) -> float:
    """Pixels from (row, col) to the nearest pixel of the mark (0 inside it)."""
    half_h, half_w = MARKS[label]
    cy, cx = centre
    dy = max(cy - half_h - row, 0, row - (cy + half_h - 1))
    dx = max(cx - half_w - col, 0, col - (cx + half_w - 1))
    return float(np.hypot(dy, dx))


@pytest.fixture(scope="module")
def evaluated(trained_predictor):
    images, labels, centres = mark_images(60, seed=2)
    probabilities, heatmaps = trained_predictor.predict_arrays(images, _tabular(len(images)))
    correct = probabilities.argmax(axis=1) == labels
    assert correct.mean() >= 0.9, "the tiny model failed to learn the task"
    return heatmaps[correct], labels[correct], centres[correct]


@pytest.mark.slow
def test_heatmap_peaks_on_the_mark(evaluated) -> None:
    heatmaps, labels, centres = evaluated
    distances = [_box_distance(*np.unravel_index(np.argmax(h), h.shape), c, int(label))
                 for h, label, c in zip(heatmaps, labels, centres)]
    # 8 px = one feature cell; a random point lies ~40 px from the mark on average.
    assert np.mean(np.array(distances) <= 8) >= 0.9


@pytest.mark.slow
def test_heatmap_is_bright_on_the_mark_and_dark_elsewhere(evaluated) -> None:
    heatmaps, labels, centres = evaluated
    on_mark = []
    for heatmap, label, (cy, cx) in zip(heatmaps, labels, centres):
        half_h, half_w = MARKS[int(label)]
        on_mark.append(heatmap[cy - half_h:cy + half_h, cx - half_w:cx + half_w].mean())
    assert np.mean(np.array(on_mark) >= 0.5) >= 0.9
    assert np.median(heatmaps.mean(axis=(1, 2))) < 0.25  # not a uniformly bright map
