"""Image backbones of the fusion network, chosen by name.

Every backbone is a ``keras.Model`` named ``"backbone"`` that takes a float32
image ``(s, s, 3)`` in [0, 255] and returns its last convolutional feature maps
``(h, w, c)`` (no pooling). Returning the feature maps, rather than a pooled
vector, is what lets Grad-CAM find them after a save/reload: the fusion model's
``"backbone"`` layer output *is* the Grad-CAM layer.

ImageNet weights are never downloaded at run time. They come from a file the
user names or from the Keras cache (``~/.keras/models`` or ``$KERAS_HOME/models``)
when the standard ``*_notop.h5`` file is already there; otherwise the backbone
gets random weights and a warning says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

BACKBONE_LAYER = "backbone"


@dataclass(frozen=True)
class BackboneSpec:
    """How to build one named backbone and where its ImageNet weights would be cached."""

    builder: Callable[..., keras.Model]
    cache_filename: str | None
    min_input_size: int


def keras_cache_dir() -> Path:
    """The directory Keras' ``get_file(cache_subdir="models")`` would use."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def _compact(input_size: int, weights: str | None, bn_momentum: float) -> keras.Model:
    """A small CNN (~0.1 M parameters) that trains on a laptop CPU in minutes.

    Output stride 8, so the Grad-CAM map keeps useful resolution (28x28 at 224 px).
    """
    image = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(image)
    for index, (filters, stride, pool) in enumerate(
        [(16, 2, False), (32, 1, True), (64, 1, True), (128, 1, False)]
    ):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                          name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{index}")(x)
        x = layers.Activation("relu", name=f"relu{index}")(x)
        if pool:
            x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    model = keras.Model(image, x, name=BACKBONE_LAYER)
    if weights is not None:
        model.load_weights(weights)
    return model


def _efficientnet(constructor: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
    def build(input_size: int, weights: str | None, bn_momentum: float) -> keras.Model:
        del bn_momentum  # the pretrained architecture keeps its own BatchNorm settings
        base = constructor(
            include_top=False,
            weights=weights,
            input_shape=(input_size, input_size, 3),
            include_preprocessing=True,
            pooling=None,
        )
        # Re-wrap so the layer is called "backbone" whatever Keras names the application.
        return keras.Model(base.input, base.output, name=BACKBONE_LAYER)

    return build


BACKBONES: dict[str, BackboneSpec] = {
    "compact": BackboneSpec(_compact, None, 32),
    "efficientnetv2b0": BackboneSpec(
        _efficientnet(keras.applications.EfficientNetV2B0), "efficientnetv2-b0_notop.h5", 32
    ),
    "efficientnetv2s": BackboneSpec(
        _efficientnet(keras.applications.EfficientNetV2S), "efficientnetv2-s_notop.h5", 32
    ),
}


def resolve_weights(backbone: str, weights: str | os.PathLike | None) -> str | None:
    """Path of the weights file to load, or None for random weights (with a warning).

    A path the user gives must exist: silently training from random weights when
    the user asked for ImageNet ones would waste a whole training run.
    """
    spec = _spec(backbone)
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"backbone weights file not found: {path}")
        return str(path)
    if spec.cache_filename is not None:
        cached = keras_cache_dir() / spec.cache_filename
        if cached.is_file():
            return str(cached)
        warnings.warn(
            f"no ImageNet weights for backbone {backbone!r}: {cached} is absent and no "
            "weights file was given; building with RANDOM weights (nothing is downloaded)",
            RuntimeWarning,
            stacklevel=3,
        )
    return None


def build_backbone(backbone: str, input_size: int, weights: str | os.PathLike | None = None,
                   bn_momentum: float = 0.99) -> keras.Model:
    """Build the named backbone; see the module docstring for the weights policy."""
    spec = _spec(backbone)
    if input_size < spec.min_input_size:
        raise ValueError(f"input_size must be at least {spec.min_input_size}, got {input_size}")
    path = resolve_weights(backbone, weights)
    return spec.builder(input_size, path, bn_momentum)


def _spec(backbone: str) -> BackboneSpec:
    try:
        return BACKBONES[backbone]
    except KeyError:
        raise ValueError(
            f"unknown backbone {backbone!r}; choose one of {sorted(BACKBONES)}"
        ) from None
