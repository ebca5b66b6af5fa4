"""The hand region of a radiograph: THE first step of preprocessing, shared by training and inference.

Ingest (:mod:`screening.ingest`) stores only this region, so the risk model,
Grad-CAM and the overlays see the hand and not the film border, collimation bars
or side markers; training (:mod:`training.dataset`) crops its images with the same
functions before the model's own preprocessing (:func:`screening.imaging.preprocess`),
so the model is trained on exactly what it is later shown.

The region is a **square** around the gate's ``hand_box``, grown along the box's
shorter side with more of the film itself. ``preprocess`` letterboxes a non-square
input with black bars to make it square; a square crop leaves it nothing to pad, so
the model reads image content only (with the earlier box-shaped crop, a fifth of the
Grad-CAM misses on real hands were peaks on those black bars). Only where the film
itself is narrower than the square (a hand filling a portrait film's height) is the
rest filled by repeating the film's edge row or column (``BORDER_REPLICATE``): the
film's own level rather than a black bar, and no copy of anatomy or markers (mirroring
the film, ``BORDER_REFLECT_101``, put a second thumb or "L" marker beside the hand on
real films). A pixel of the fill maps to a point outside the film, so a Grad-CAM peak
there never counts as "on the hand".

:func:`crop_bounds` gives the square in the file's pixel coordinates (it may reach
past the film's edges where filled); crop pixel ``(cx, cy)`` is file pixel
``(x0 + cx, y0 + cy)``, so overlays and Grad-CAM map back one to one.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.anatomy.gate import Box, GateVerdict, HandGate, load_gate


def hand_region(pixels: np.ndarray, gate: HandGate | None = None) -> tuple[np.ndarray, GateVerdict]:
    """The gate's verdict on ``pixels`` and the square hand crop the model reads.

    A rejected image has no box and its "crop" is the whole film made square;
    callers that screen only accepted and warning images never use it.
    """
    verdict = (gate or load_gate()).judge(pixels)
    return crop_hand(pixels, verdict.hand_box), verdict


def crop_hand(pixels: np.ndarray, box: Box | None) -> np.ndarray:
    """The square region :func:`crop_bounds` gives, as a contiguous copy, the film's edge
    repeated where it reaches past the film. ``box`` None: the whole film."""
    array = np.asarray(pixels)
    height, width = array.shape[:2]
    x0, y0, x1, y1 = crop_bounds(box, width, height)
    film = np.ascontiguousarray(array[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)])
    fill = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    if not any(fill):
        return film
    return cv2.copyMakeBorder(film, *fill, cv2.BORDER_REPLICATE)


def crop_bounds(box: Box | None, width: int, height: int) -> Box:
    """The square (x0, y0, x1, y1), x1/y1 exclusive, that :func:`crop_hand` keeps of a
    ``width`` x ``height`` film, in the film's pixel coordinates.

    Its side is the box's longer side. Along each axis the square is centred on the box
    and shifted to stay on the film; where the film is shorter than the side, it is
    centred on the film instead, so the whole film along that axis is kept and the
    fill is split between the two edges. The box always lies inside the square.
    """
    x0, y0, x1, y1 = (0, 0, width, height) if box is None else box
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(f"box {box} is not inside an image of {width} x {height} pixels")
    side = max(x1 - x0, y1 - y0)
    left, top = _window_start(x0, x1, side, width), _window_start(y0, y1, side, height)
    return left, top, left + side, top + side


def _window_start(start: int, stop: int, side: int, length: int) -> int:
    """Where a window of ``side`` pixels holding [start, stop) begins on an axis of ``length``."""
    if side >= length:
        return -((side - length) // 2)
    centred = (start + stop - side) // 2
    return min(max(centred, 0), length - side)
