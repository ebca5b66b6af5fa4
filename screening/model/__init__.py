"""Fusion network, focal loss, model bundles, batched prediction with Grad-CAM.

The package import is light: cards, overlays and constants load without
TensorFlow, so the web process and the CLI can read a model card or render an
overlay. Names that need Keras (the network, bundles, the predictor) are imported
on first use, from the submodule that defines them (PEP 562 ``__getattr__``).
Loading a bundle registers ``CategoricalFocalLoss`` with Keras itself
(``screening.model.bundle``), so nothing depends on this package's import order.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from screening.model.card import BundleError, ModelCard
from screening.vocabulary import CLASS_NAMES

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from screening.model.backbones import BACKBONES
    from screening.model.bundle import ModelBundle, load_bundle, load_bundle_from_store, save_bundle
    from screening.model.focal_loss import CategoricalFocalLoss
    from screening.model.inference import Prediction, Predictor
    from screening.model.network import (
        build_fusion_model,
        encode_tabular,
        encode_tabular_batch,
        set_backbone_trainable,
    )
    from screening.model.overlays import render_overlays

# name -> submodule that defines it; imported when the name is first read.
_LAZY: dict[str, str] = {
    "BACKBONES": "backbones",
    "ModelBundle": "bundle",
    "load_bundle": "bundle",
    "load_bundle_from_store": "bundle",
    "save_bundle": "bundle",
    "CategoricalFocalLoss": "focal_loss",
    "Prediction": "inference",
    "Predictor": "inference",
    "build_fusion_model": "network",
    "encode_tabular": "network",
    "encode_tabular_batch": "network",
    "set_backbone_trainable": "network",
    "render_overlays": "overlays",
}

__all__ = [
    "BACKBONES", "BundleError", "CLASS_NAMES", "CategoricalFocalLoss", "ModelBundle", "ModelCard", "Prediction",
    "Predictor", "build_fusion_model", "encode_tabular", "encode_tabular_batch", "load_bundle",
    "load_bundle_from_store", "render_overlays", "save_bundle", "set_backbone_trainable",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
