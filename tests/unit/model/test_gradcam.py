"""Grad-CAM points at the evidence: a compact model trained on images whose class is
decided by which quadrant holds a bright blob must light up that quadrant."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from screening.model import CategoricalFocalLoss, ModelCard, build_fusion_model, save_bundle
from screening.model.inference import Predictor

SIZE = 64
HALF = SIZE // 2
# class index -> (row, column) of the quadrant that holds the blob
QUADRANTS = {0: (0, 0), 1: (0, 1), 2: (1, 0)}


def blob_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy images with one Gaussian blob in the quadrant of the label; also the blob centres."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    images = rng.uniform(0, 60, (n, SIZE, SIZE)).astype(np.float32)
    centres = np.zeros((n, 2), np.int64)
    for i, label in enumerate(labels):
        row, col = QUADRANTS[int(label)]
        cy = row * HALF + rng.integers(8, HALF - 8)
        cx = col * HALF + rng.integers(8, HALF - 8)
        images[i] += 190 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 3.0**2))
        centres[i] = cy, cx
    images = np.repeat(np.clip(images, 0, 255)[..., None], 3, axis=-1)
    return images, labels, centres


@pytest.fixture(scope="module")
def trained_predictor(tmp_path_factory) -> Predictor:
    keras.utils.set_random_seed(3)
    images, labels, _ = blob_images(480, seed=1)
    tabular = np.tile(np.array([[0.6, 1.0]], np.float32), (len(images), 1))
    model = build_fusion_model("compact", SIZE, bn_momentum=0.9)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=CategoricalFocalLoss(alpha=1.0))
    model.fit({"image": images, "tabular": tabular}, np.eye(3)[labels], epochs=6,
              batch_size=32, verbose=0)
    card = ModelCard(name="blobs", backbone="compact", input_size=SIZE, synthetic_demo=True)
    bundle = save_bundle(model, card, tmp_path_factory.mktemp("gradcam") / "bundle")
    return Predictor(bundle, batch_size=16)


@pytest.mark.slow
def test_heatmap_peak_lies_in_the_evidence_quadrant(trained_predictor) -> None:
    images, labels, centres = blob_images(60, seed=2)
    tabular = np.tile(np.array([[0.6, 1.0]], np.float32), (len(images), 1))
    probabilities, heatmaps = trained_predictor.predict_arrays(images, tabular)
    correct = probabilities.argmax(axis=1) == labels
    assert correct.mean() >= 0.9, "the tiny model failed to learn the task"

    hits = []
    for heatmap, label in zip(heatmaps[correct], labels[correct]):
        peak_row, peak_col = np.unravel_index(np.argmax(heatmap), heatmap.shape)
        hits.append((peak_row // HALF, peak_col // HALF) == QUADRANTS[int(label)])
    assert np.mean(hits) >= 0.9


@pytest.mark.slow
def test_heatmap_mass_concentrates_near_the_blob(trained_predictor) -> None:
    images, labels, centres = blob_images(30, seed=4)
    tabular = np.tile(np.array([[0.6, 1.0]], np.float32), (len(images), 1))
    probabilities, heatmaps = trained_predictor.predict_arrays(images, tabular)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    near_fraction = []
    for heatmap, (cy, cx) in zip(heatmaps, centres):
        near = (yy - cy) ** 2 + (xx - cx) ** 2 <= 12**2  # ~11% of the image area
        near_fraction.append(heatmap[near].sum() / heatmap.sum())
    assert np.median(near_fraction) >= 0.4
