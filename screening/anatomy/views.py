"""The two views of a radiograph that the hand gate works on, made by one function.

Training (``training/gate.py``) and inference (:class:`screening.anatomy.gate.HandGate`)
both call :func:`gate_views`, so the classifier sees at run time exactly the pixels it
was trained on. Decoded radiographs are 0.2-20 megapixels; everything here runs on a
copy shrunk once to at most :data:`WORK_SIDE` pixels a side, which keeps the gate and the
localisation at a few milliseconds whatever the detector size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from screening.imaging.preprocess import PreprocessParams, preprocess

#: Longer side of the working copy used for localisation and the classifier input.
#: 384 px keeps a child's metacarpals several pixels wide and costs ~2 ms to make from
#: a 5-megapixel CR (INTER_AREA), against ~20 ms for working at full resolution.
WORK_SIDE = 384


@dataclass(frozen=True)
class GateViews:
    """``work``: float32 gray in [0, 1], longer side at most WORK_SIDE, aspect kept.
    ``scale``: work pixels per input pixel (<= 1). ``model_input``: float32
    (size, size) in [0, 1], the letterboxed CLAHE image the classifier reads."""

    work: np.ndarray
    scale: float
    model_input: np.ndarray


def working_copy(pixels: np.ndarray, side: int = WORK_SIDE) -> tuple[np.ndarray, float]:
    """Shrink (never enlarge) so the longer side is at most ``side``; return the copy and its scale."""
    array = np.asarray(pixels)
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 2:
        raise ValueError(f"expected a 2-D gray image, got shape {array.shape}")
    gray = np.nan_to_num(array.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    height, width = gray.shape
    scale = min(1.0, side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return np.clip(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), 0.0, 1.0), scale
    return np.clip(gray, 0.0, 1.0), scale


def gate_views(pixels: np.ndarray, params: PreprocessParams) -> GateViews:
    """The working copy and the classifier input of one decoded radiograph."""
    work, scale = working_copy(pixels)
    prepared = preprocess(work, size=params.size, clip_limit=params.clip_limit, tile_grid=params.tile_grid)
    return GateViews(work=work, scale=scale, model_input=prepared.clahe.astype(np.float32) / 255.0)
