"""Fusion network, focal loss, model bundles, batched prediction with Grad-CAM.

Importing this package registers ``CategoricalFocalLoss`` with Keras, so saved
models compiled with it reload with plain ``keras.models.load_model``.
"""

from screening.model.backbones import BACKBONES
from screening.model.bundle import (
    ModelBundle,
    load_bundle,
    load_bundle_from_store,
    pack_bundle,
    save_bundle,
)
from screening.model.card import BundleError, ModelCard
from screening.model.focal_loss import CategoricalFocalLoss
from screening.model.inference import Prediction, Predictor
from screening.model.network import (
    CLASS_NAMES,
    build_fusion_model,
    encode_tabular,
    encode_tabular_batch,
    set_backbone_trainable,
)
from screening.model.overlays import render_overlays

__all__ = [
    "BACKBONES",
    "BundleError",
    "CLASS_NAMES",
    "CategoricalFocalLoss",
    "ModelBundle",
    "ModelCard",
    "Prediction",
    "Predictor",
    "build_fusion_model",
    "encode_tabular",
    "encode_tabular_batch",
    "load_bundle",
    "load_bundle_from_store",
    "pack_bundle",
    "render_overlays",
    "save_bundle",
    "set_backbone_trainable",
]
