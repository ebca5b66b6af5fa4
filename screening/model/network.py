"""The fusion network: X-ray image + (age, sex) -> Normal / Osteopenia / Osteoporosis.

Layout (every name below survives ``model.save`` / ``keras.models.load_model``)::

    image (s,s,3) [0,255] ──▶ "backbone" ──▶ feature maps (h,w,c) ─┐
    tabular (2,)  ─────────────────────────────────────────────────┴▶ "head" ──▶ logits (3,)
                                                                     "probabilities" = softmax

The head is its own sub-model taking the feature maps, so inference can run the
backbone once *outside* a gradient tape and differentiate only the head for
Grad-CAM (see ``screening.model.inference``).

Tabular encoding (shared by training and inference through ``encode_tabular``):
``age = age_months / 1200`` (so 100 years -> 1.0) and ``sex = 1.0`` for female,
``0.0`` for male, ``0.5`` when unknown (the midpoint carries no sex signal).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import keras
import numpy as np
from keras import layers

from screening.model.backbones import BACKBONE_LAYER, build_backbone
from screening.vocabulary import CLASS_NAMES

HEAD_LAYER = "head"
PROBABILITIES_LAYER = "probabilities"
AGE_SCALE_MONTHS = 1200.0
MAX_AGE_MONTHS = 130 * 12
_SEX_CODES = {"f": 1.0, "female": 1.0, "m": 0.0, "male": 0.0}
_UNKNOWN_SEX = {"", "o", "u", "other", "unknown"}


def encode_tabular(age_months: float, sex: str | None) -> np.ndarray:
    """The model's tabular input ``[age_months / 1200, sex]`` as float32 of shape (2,)."""
    age = float(age_months)
    if not np.isfinite(age) or not 0.0 <= age <= MAX_AGE_MONTHS:
        raise ValueError(f"age_months must be between 0 and {MAX_AGE_MONTHS}, got {age_months!r}")
    key = (sex or "").strip().lower()
    if key in _SEX_CODES:
        code = _SEX_CODES[key]
    elif key in _UNKNOWN_SEX:
        code = 0.5
    else:
        raise ValueError(f"sex must be F, M or unknown (O/U/empty), got {sex!r}")
    return np.array([age / AGE_SCALE_MONTHS, code], dtype=np.float32)


def encode_tabular_batch(ages_months: Iterable[float], sexes: Iterable[str | None]) -> np.ndarray:
    """``encode_tabular`` for many patients: float32 of shape (N, 2)."""
    rows = [encode_tabular(age, sex) for age, sex in zip(ages_months, sexes, strict=True)]
    return np.stack(rows) if rows else np.zeros((0, 2), np.float32)


def _build_head(feature_shape: tuple[int, ...], num_classes: int, bn_momentum: float) -> keras.Model:
    """Pool the feature maps, fuse with the tabular branch, classify (returns logits)."""
    features = keras.Input(feature_shape, name="features")
    tabular = keras.Input((2,), name="tabular")
    pooled = layers.GlobalAveragePooling2D(name="avg_pool")(features)
    tab = layers.Dense(16, activation="relu", name="tabular_dense")(tabular)
    x = layers.Concatenate(name="fusion")([pooled, tab])
    for index, (units, rate) in enumerate([(256, 0.3), (64, 0.4)]):
        x = layers.Dense(units, use_bias=False, name=f"dense{index}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"dense{index}_bn")(x)
        x = layers.Activation("relu", name=f"dense{index}_relu")(x)
        x = layers.Dropout(rate, name=f"dropout{index}")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model([features, tabular], logits, name=HEAD_LAYER)


def build_fusion_model(
    backbone: str = "efficientnetv2s",
    input_size: int = 224,
    weights: str | os.PathLike | None = None,
    num_classes: int = len(CLASS_NAMES),
    bn_momentum: float = 0.99,
) -> keras.Model:
    """Build the (uncompiled) fusion model with inputs ``image`` and ``tabular``.

    ``weights`` names an ImageNet ``*_notop.h5`` file for the backbone; without it
    the Keras cache is used if it holds the file, else random weights with a warning.
    ``bn_momentum`` applies to the head (and the compact backbone); a lower value
    (0.9) lets moving statistics settle on very small training runs.
    """
    image = keras.Input((input_size, input_size, 3), name="image")
    tabular = keras.Input((2,), name="tabular")
    net = build_backbone(backbone, input_size, weights, bn_momentum)
    features = net(image)
    head = _build_head(tuple(net.output.shape[1:]), num_classes, bn_momentum)
    logits = head([features, tabular])
    probabilities = layers.Activation("softmax", name=PROBABILITIES_LAYER)(logits)
    return keras.Model({"image": image, "tabular": tabular}, probabilities,
                       name=f"fusion_{backbone}")


def backbone_of(model: keras.Model) -> keras.Model:
    """The model's backbone sub-model (its output is the Grad-CAM feature map)."""
    return model.get_layer(BACKBONE_LAYER)


def head_of(model: keras.Model) -> keras.Model:
    """The sub-model mapping (feature maps, tabular) to logits."""
    return model.get_layer(HEAD_LAYER)


def set_backbone_trainable(model: keras.Model, trainable: bool, top_layers: int | None = None) -> None:
    """Freeze (phase 1) or unfreeze (phase 2) the backbone.

    With ``top_layers`` only the last N backbone layers become trainable. BatchNorm
    layers stay frozen when fine-tuning, as Keras recommends: updating their
    statistics on a small medical dataset destroys the pretrained features.
    Recompile the model after calling this.
    """
    net = backbone_of(model)
    net.trainable = trainable
    if not trainable:
        return
    first = 0 if top_layers is None else max(len(net.layers) - top_layers, 0)
    for index, layer in enumerate(net.layers):
        layer.trainable = index >= first and not isinstance(layer, layers.BatchNormalization)
