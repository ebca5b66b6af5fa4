"""The hand region of a radiograph: THE first step of preprocessing, shared by training and inference.

Ingest (:mod:`screening.ingest`) stores only this region, so the risk model,
Grad-CAM and the overlays see the hand and not the film border, collimation bars
or side markers; training (:mod:`training.dataset`) crops its images with the same
functions before the model's own preprocessing (:func:`screening.imaging.preprocess`),
so the model is trained on exactly what it is later shown.
"""

from __future__ import annotations

import numpy as np

from screening.anatomy.gate import Box, GateVerdict, HandGate, load_gate
from screening.anatomy.locate import crop_to_hand

# Margin around the located hand, as a share of the box's longer side. Zero: the
# gate's box already carries a pad (2 % of the film's longer side) around the hand,
# and the region the model sees is then exactly the stored ``hand_box``, so overlays
# and Grad-CAM map onto it one to one.
CROP_MARGIN = 0.0


def hand_region(pixels: np.ndarray, gate: HandGate | None = None) -> tuple[np.ndarray, GateVerdict]:
    """The gate's verdict on ``pixels`` and the hand crop the model reads.

    A rejected image has no box and its "crop" is the whole image; callers that
    screen only accepted and warning images never use it.
    """
    verdict = (gate or load_gate()).judge(pixels)
    return crop_hand(pixels, verdict.hand_box), verdict


def crop_hand(pixels: np.ndarray, box: Box | None) -> np.ndarray:
    """``pixels`` cropped to a box the gate found (with CROP_MARGIN), as a contiguous copy."""
    return np.ascontiguousarray(crop_to_hand(pixels, box, CROP_MARGIN))


def crop_bounds(box: Box, width: int, height: int) -> Box:
    """The (x0, y0, x1, y1) that :func:`crop_hand` keeps of a ``width`` x ``height`` image.

    Grad-CAM figures and overlays map crop pixels back to the file's coordinates with it.
    """
    x0, y0, x1, y1 = box
    grow = round(CROP_MARGIN * max(x1 - x0, y1 - y0))
    return max(0, x0 - grow), max(0, y0 - grow), min(width, x1 + grow), min(height, y1 + grow)
