"""The metacarpal measurement of one uploaded image, as ingest records it.

Ingest measures every readable hand (accepted or with a warning, eligible or not) on
the gate's hand box at full resolution, before the stored copy is shrunk, so the cortex
is measured on every pixel the hospital sent. Lines are stored in the uploaded file's own
pixel frame (the box's corner added back).
Millimetres only come from a pixel spacing the file or its manifest row gives; never
from a guessed scale.

A hand that cannot be measured is a refusal with its reason, recorded on the image; an
unexpected error inside the measurement is logged (without any identifier) and recorded
as "not measured: internal error". Neither ever fails or rejects the image: the
measurement is shown beside the screening result, it does not gate it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from screening.anatomy.measurement_record import hand_record
from screening.anatomy.radiogrammetry import (
    INDEX_NAME,
    MEASURED_BONES,
    METHOD_VERSION,
    HandMeasurement,
    draw_measurement,
    measure_hand,
)
from screening.imaging.png import encode_png
from screening.imaging.stored import STORED_MAX_SIDE
from screening.vocabulary import MEASUREMENT_VIEW

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "not measured: internal error"


@dataclass(frozen=True)
class ImageMeasurement:
    """The ``images`` columns of one measurement and, when the hand was measured, its overlay PNG."""

    columns: dict[str, Any]
    overlay_png: bytes | None


def measure_image(crop: np.ndarray, origin: tuple[int, int], pixel_spacing_mm: float | None) -> ImageMeasurement:
    """Measure MC2-MC4 on the hand ``crop`` whose top-left corner is ``origin`` (x, y) in the file.

    Never raises on what the pixels hold; an unforeseen error becomes a recorded refusal.
    """
    try:
        hand = measure_hand(crop, pixel_spacing_mm=pixel_spacing_mm)
        record = hand_record(hand, origin=(float(origin[0]), float(origin[1])))
        overlay = overlay_png(crop, hand) if hand.measured else None
    except Exception:  # noqa: BLE001 - the measurement is an aid: it must never cost the image its screening
        logger.exception("radiogrammetry failed unexpectedly on a hand crop of %d x %d pixels",
                         crop.shape[1] if crop.ndim > 1 else 0, crop.shape[0])
        return ImageMeasurement(failed_columns(pixel_spacing_mm), None)
    record["pixel_spacing_mm"] = pixel_spacing_mm
    return ImageMeasurement(_columns(record), overlay)


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    stored = {key: record[key] for key in ("reason", "index_name", "index_value", "pixel_spacing_mm", "bones")}
    return {
        "radiogrammetry_version": record["method_version"],
        "measured": record["measured"],
        "cortical_index": record["cortical_index"],
        "cortical_thickness_mm": record["cortical_thickness_mm"],
        "measurement": stored,
    }


def failed_columns(pixel_spacing_mm: float | None) -> dict[str, Any]:
    """What is recorded when the measurement itself broke: attempted, not measured, no values."""
    unit = "mm" if pixel_spacing_mm else "px"
    bones = [{"bone": name, "measured": False, "reason": INTERNAL_ERROR, "quality": 0.0, "outer_width": None,
              "inner_width": None, "cortical_thickness": None, "cortical_index": None, "length": None,
              "unit": unit, "line": None, "axis": None} for name in MEASURED_BONES]
    return {
        "radiogrammetry_version": METHOD_VERSION,
        "measured": False,
        "cortical_index": None,
        "cortical_thickness_mm": None,
        "measurement": {"reason": INTERNAL_ERROR, "index_name": INDEX_NAME, "index_value": None,
                        "pixel_spacing_mm": pixel_spacing_mm, "bones": bones},
    }


def overlay_png(crop: np.ndarray, hand: HandMeasurement) -> bytes:
    """The crop with axes, bands and edges drawn, as PNG at most STORED_MAX_SIDE on its longer side.

    Drawn at full resolution (line widths follow the image's size), then shrunk like the
    stored image, so the overlay lies exactly over the picture the pages and reports show.
    """
    rgb = draw_measurement(crop, hand)
    height, width = rgb.shape[:2]
    scale = STORED_MAX_SIDE / max(height, width)
    if scale < 1:
        rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return encode_png(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def measurement_overlay_key(batch_id: str, image_id: int) -> str:
    """Beside the image's Grad-CAM overlays: batch and image ids only, never a patient identifier."""
    return f"overlays/{batch_id}/{image_id}/{MEASUREMENT_VIEW}.png"
