"""Batched prediction with Grad-CAM in one graph pass.

A ``Predictor`` is built once per worker process from a ``ModelBundle``. Each
batch runs one compiled ``tf.function``:

1. the backbone forward pass *outside* any gradient recording (the expensive part
   is never taped, so Grad-CAM costs about one head backward pass);
2. the head under ``tf.GradientTape(watch_accessed_variables=False)`` watching only
   the feature maps;
3. one gradient of the sum of each sample's predicted-class logit: in inference
   mode samples do not interact (BatchNorm uses moving statistics, Dropout is off),
   so the gradient of the sum holds every sample's own gradient.

Probabilities are calibrated by temperature scaling of the logits
(``softmax(logits / T)``, T from the model card). Grad-CAM uses the pre-softmax
logit of the predicted class, as in Selvaraju et al. (2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from screening.model.bundle import ModelBundle
from screening.model.network import backbone_of, head_of


@dataclass(frozen=True)
class Prediction:
    """One image's result; ``heatmap`` is float32 (s, s) in [0, 1] for ``label``."""

    label: str
    probabilities: dict[str, float]
    heatmap: np.ndarray
    refer: bool
    model_version: str


class Predictor:
    """Calibrated probabilities + Grad-CAM heatmaps for batches of prepared inputs."""

    def __init__(self, bundle: ModelBundle, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.bundle = bundle
        self.card = bundle.card
        self.size = bundle.card.input_size
        self.batch_size = batch_size
        self._backbone = backbone_of(bundle.model)
        self._head = head_of(bundle.model)
        self._temperature = tf.constant(float(bundle.card.calibration_temperature), tf.float32)
        # One trace for every batch size up to batch_size: the batch dimension is dynamic.
        self._step = tf.function(
            self._probabilities_and_cam,
            input_signature=[
                tf.TensorSpec((None, self.size, self.size, 3), tf.float32, name="images"),
                tf.TensorSpec((None, 2), tf.float32, name="tabular"),
            ],
            reduce_retracing=True,
        )

    def _probabilities_and_cam(self, images: tf.Tensor, tabular: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        features = self._backbone(images, training=False)               # (B, h, w, c)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(features)
            logits = self._head([features, tabular], training=False)     # (B, K)
            predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B,)
            scores = tf.gather(logits, predicted, axis=1, batch_dims=1)   # (B,)
            total = tf.reduce_sum(scores)                                  # ()
        grads = tape.gradient(total, features)                             # (B, h, w, c)
        channel_weights = tf.reduce_mean(grads, axis=(1, 2))               # (B, c)
        cam = tf.einsum("bhwc,bc->bhw", features, channel_weights)         # (B, h, w)
        cam = tf.nn.relu(cam)
        cam = tf.image.resize(cam[..., tf.newaxis], (self.size, self.size),
                              method="bilinear")[..., 0]                   # (B, s, s)
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)              # (B, 1, 1)
        cam = tf.math.divide_no_nan(cam, peak)                             # [0, 1]; all-zero stays 0
        probabilities = tf.nn.softmax(logits / self._temperature, axis=-1)  # (B, K)
        return probabilities, cam

    def predict_arrays(self, images: np.ndarray, tabular: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, K) and heatmaps (N, s, s), both float32, in input order."""
        images, tabular = self._validate(images, tabular)
        probabilities, heatmaps = [], []
        for start in range(0, len(images), self.batch_size):
            stop = start + self.batch_size
            probs, cams = self._step(images[start:stop], tabular[start:stop])
            probabilities.append(probs.numpy())
            heatmaps.append(cams.numpy())
        if not probabilities:
            k = len(self.card.class_names)
            return np.zeros((0, k), np.float32), np.zeros((0, self.size, self.size), np.float32)
        return np.concatenate(probabilities), np.concatenate(heatmaps)

    def predict_batch(self, images: np.ndarray, tabular: np.ndarray) -> list[Prediction]:
        """One ``Prediction`` per image (see ``predict_arrays`` for the inputs)."""
        probabilities, heatmaps = self.predict_arrays(images, tabular)
        names = list(self.card.class_names)
        refer_index = names.index("osteoporosis") if "osteoporosis" in names else None
        results = []
        for probs, heatmap in zip(probabilities, heatmaps, strict=True):
            refer = refer_index is not None and probs[refer_index] >= self.card.refer_threshold
            results.append(Prediction(
                label=names[int(np.argmax(probs))],
                probabilities={name: float(p) for name, p in zip(names, probs, strict=True)},
                heatmap=heatmap,
                refer=bool(refer),
                model_version=self.card.version,
            ))
        return results

    def _validate(self, images: np.ndarray, tabular: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = np.asarray(images, dtype=np.float32)
        tabular = np.asarray(tabular, dtype=np.float32)
        expected = (self.size, self.size, 3)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"images must have shape (N, {self.size}, {self.size}, 3), "
                             f"got {images.shape}")
        if tabular.shape != (len(images), 2):
            raise ValueError(f"tabular must have shape ({len(images)}, 2), got {tabular.shape}")
        return images, tabular
