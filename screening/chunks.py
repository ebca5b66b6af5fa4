"""Screening one chunk of stored images: load → preprocess → predict + Grad-CAM → overlays.

The model call is one batched graph pass; the per-image work around it (PNG
decoding, CLAHE, overlay blending and encoding, object-store writes) runs in a
thread pool, since OpenCV and the store release the GIL. A bad image fails alone:
the rest of the chunk is screened. An outage (object store, database) is raised,
never recorded against an image: the task retries (see :mod:`screening.faults`).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from screening.db.models import Image
from screening.faults import is_infrastructure_error
from screening.imaging import PreprocessParams, preprocess
from screening.imaging.png import encode_png
from screening.imaging.stored import decode_normalised_png
from screening.safe_text import public_reason
from screening.storage import ObjectStore
from screening.vocabulary import OVERLAY_COLORMAPS

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # TensorFlow is imported only by processes that screen
    from screening.model.inference import Prediction, Predictor

THREADS = max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class _Input:
    image: Image
    model_input: np.ndarray  # float32 (s, s, 3) in [0, 255]
    clahe: np.ndarray  # uint8 (s, s)
    tabular: np.ndarray  # float32 (2,)


def screen_images(store: ObjectStore, predictor: Predictor,
                  images: list[Image]) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Prediction rows for the images that could be screened, and an error per image that could not."""
    from screening.model.network import encode_tabular

    params = PreprocessParams.from_dict(predictor.card.preprocessing or {})

    def load(image: Image) -> _Input | str:
        try:
            if image.storage_key is None or image.age_months is None:
                raise ValueError("the image was not stored with its patient's age")
            pixels = decode_normalised_png(store.get_bytes(image.storage_key))
            prepared = preprocess(pixels, params.size, params.clip_limit, params.tile_grid)
            return _Input(image, prepared.model_input, prepared.clahe, encode_tabular(image.age_months, image.sex))
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            logger.warning("batch=%s image=%s could not be screened: %s", image.batch_id, image.id, type(exc).__name__)
            return f"could not be screened: {public_reason(exc)}"

    with ThreadPoolExecutor(THREADS) as pool:
        loaded = list(pool.map(load, images))
        inputs = [item for item in loaded if isinstance(item, _Input)]
        errors = {image.id: item for image, item in zip(images, loaded, strict=True) if isinstance(item, str)}
        if not inputs:
            return [], errors
        results = predictor.predict_batch(np.stack([i.model_input for i in inputs]),
                                          np.stack([i.tabular for i in inputs]))
        rows = list(pool.map(lambda pair: _store_result(store, *pair), zip(inputs, results, strict=True)))
    return rows, errors


def _store_result(store: ObjectStore, item: _Input, result: Prediction) -> dict[str, Any]:
    """Write the CLAHE image and its overlays under stable keys; return the prediction row."""
    from screening.model.overlays import render_overlays

    image = item.image
    prefix = f"overlays/{image.batch_id}/{image.id}"
    overlay_keys = {}
    for name, png in render_overlays(item.clahe, result.heatmap, OVERLAY_COLORMAPS).items():
        overlay_keys[name] = f"{prefix}/{name}.png"
        store.put_bytes(overlay_keys[name], png, "image/png")
    clahe_key = f"{prefix}/clahe.png"
    store.put_bytes(clahe_key, encode_png(item.clahe), "image/png")
    probs = result.probabilities
    return dict(image_id=image.id, batch_id=image.batch_id, hospital_id=image.hospital_id,
                patient_id=image.patient_id, model_version_id=result.model_version,
                predicted_class=result.label, p_normal=probs["normal"], p_osteopenia=probs["osteopenia"],
                p_osteoporosis=probs["osteoporosis"], referred=bool(result.refer), clahe_key=clahe_key,
                overlay_keys=overlay_keys, created_at=datetime.now(UTC))
