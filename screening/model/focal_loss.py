"""Categorical focal loss (Lin et al., 2017) for the imbalanced screening classes.

``FL = -sum_c alpha * y_c * (1 - p_c)^gamma * log(p_c)`` per sample. Easy, confident
samples (mostly "normal") are down-weighted so the rarer osteoporosis cases drive
training. The loss returns one value per sample and leaves reduction to
``keras.losses.Loss``, so ``class_weight`` / ``sample_weight`` in ``model.fit`` apply.

Registered under the ``osteo`` package: a saved ``.keras`` model compiled with it
reloads with plain ``keras.models.load_model`` once ``screening.model`` is imported.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="osteo")
class CategoricalFocalLoss(keras.losses.Loss):
    """Focal loss over one-hot targets; ``gamma=0, alpha=1`` is categorical cross-entropy."""

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25, from_logits: bool = False,
                 name: str = "categorical_focal_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        """Per-sample loss, shape (batch,)."""
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.from_logits:
            probabilities = ops.softmax(y_pred, axis=-1)
        else:
            # Renormalise as keras' categorical_crossentropy does, then keep log() finite.
            probabilities = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        epsilon = keras.config.epsilon()
        probabilities = ops.clip(probabilities, epsilon, 1.0 - epsilon)
        modulating = ops.power(1.0 - probabilities, self.gamma)
        per_class = -self.alpha * y_true * modulating * ops.log(probabilities)
        return ops.sum(per_class, axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(gamma=self.gamma, alpha=self.alpha, from_logits=self.from_logits)
        return config
