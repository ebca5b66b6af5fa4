"""Find the hand/wrist on a radiograph: the box the crop (screening.anatomy.prepare) is built around.

Hand films are a bright limb on the dark, directly exposed part of the detector, often
with things the risk model must not learn from: bright collimation bars and shutters
at the edges, the film border of a scanned film, side markers ("L", "R") and text.
The hand is found as the largest bright, textured object that is not one of those:

1. bright bands along the edges (collimation, film borders) are blanked first, so an
   arm that enters the field from a shuttered edge is not joined to the shutter;
2. the rest is thresholded (Otsu) into foreground objects;
3. objects that are small (markers, text), or flat and box-shaped at an edge
   (shutter leftovers), are dropped;
4. the box encloses the largest object and every object at least a third as big
   (two views of one hand on a film stay together).

It runs on the gate's working copy (longer side <= 384 px) in about a millisecond.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]

# Edge bands (shutters, film borders): they start within _BAND_SLACK rows of the edge with a
# median at least _BAND_START of the way from the background to the bright end, and end
# where the median falls below _BAND_STOP of that way.
_BAND_SLACK = 4
# The object threshold sits this share of the way from the background to Otsu's threshold:
# Otsu alone splits bone from soft tissue and loses faint hands.
_OTSU_SHARE = 0.6
_BAND_START = 0.5
_BAND_STOP = 0.15
# A band row is even: at least _BAND_EVEN_SHARE of it within _BAND_EVEN (share of the range) of its median.
_BAND_EVEN = 0.15
_BAND_EVEN_SHARE = 0.6
# How far in from an edge a band may reach, as a share of that dimension.
_BAND_DEPTH = 0.3
# Objects smaller than this share of the image are markers, text or dust.
_MIN_OBJECT_SHARE = 0.01
# Mean edge strength (Sobel, as a share of the range) below which an object is flat.
_MIN_DETAIL = 0.04
# Objects scoring (area x detail) at least this share of the best are kept with it (two-view films).
_COMPANION_SHARE = 1 / 3
# Margin added around the found object, as a share of the image's longer side.
_PAD_SHARE = 0.02


def locate_hand(work: np.ndarray) -> Box | None:
    """(x0, y0, x1, y1), x1/y1 exclusive, of the hand in ``work``; None when no object is found."""
    gray = cv2.GaussianBlur(np.asarray(work, dtype=np.float32), (0, 0), 1.5)
    height, width = gray.shape
    low, high = np.percentile(gray, [2, 98])
    if high - low < 0.02:
        return None
    span = float(high - low)
    background = float(np.percentile(gray, 20))
    inner = _blank_edge_shutters(gray, background, float(high) - background)
    inner_low, inner_high = np.percentile(inner, [2, 98])
    if inner_high - inner_low < 0.02:
        return None
    threshold = background + _OTSU_SHARE * (_otsu(inner, float(inner_low), float(inner_high)) - background)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    opened = cv2.morphologyEx((inner > threshold).astype(np.uint8), cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    edges = _edge_strength(gray) / span
    candidates = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < _MIN_OBJECT_SHARE * height * width:
            continue
        inside = labels[y : y + h, x : x + w] == label
        detail = float(edges[y : y + h, x : x + w][inside].mean())
        if detail < _MIN_DETAIL:
            continue  # flat: a shutter, a film border or a blank plate, not a limb
        candidates.append((area * detail, (x, y, x + w, y + h)))
    if not candidates:
        return None
    best = max(score for score, _ in candidates)
    boxes = [box for score, box in candidates if score >= _COMPANION_SHARE * best]
    pad = round(_PAD_SHARE * max(height, width))
    return (
        max(0, min(b[0] for b in boxes) - pad),
        max(0, min(b[1] for b in boxes) - pad),
        min(width, max(b[2] for b in boxes) + pad),
        min(height, max(b[3] for b in boxes) + pad),
    )


def _edge_strength(gray: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _blank_edge_shutters(gray: np.ndarray, background: float, span: float) -> np.ndarray:
    """A copy with the shutters and film borders along the four edges set to ``background``.

    Scanning in from each edge, rows (columns) that are bright and even along their
    length are a band; the band goes on through the blurred ramp of the shutter edge
    until the row is back near the background. A limb entering from that edge covers
    a minority of each row, so the row's median stays the shutter's; rows across a
    hand (fingers and the gaps between them) or across a wrist (bone, soft tissue,
    background) are not even, so they are never taken for a band.
    """
    out = gray.copy()
    height, width = gray.shape
    start, stop = background + _BAND_START * span, background + _BAND_STOP * span
    rows, even_rows = _band_profile(gray, _BAND_EVEN * span)
    cols, even_cols = _band_profile(gray.T, _BAND_EVEN * span)
    top = _band_depth(rows, even_rows, int(_BAND_DEPTH * height), start, stop)
    bottom = _band_depth(rows[::-1], even_rows[::-1], int(_BAND_DEPTH * height), start, stop)
    left = _band_depth(cols, even_cols, int(_BAND_DEPTH * width), start, stop)
    right = _band_depth(cols[::-1], even_cols[::-1], int(_BAND_DEPTH * width), start, stop)
    out[:top] = background
    out[height - bottom :] = background
    out[:, :left] = background
    out[:, width - right :] = background
    return out


def _band_profile(gray: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its median, and whether it is even (at least _BAND_EVEN_SHARE of the
    row within ``tolerance`` of that median)."""
    median = np.median(gray, axis=1)
    even = (np.abs(gray - median[:, np.newaxis]) <= tolerance).mean(axis=1) >= _BAND_EVEN_SHARE
    return median, even


def _band_depth(profile: np.ndarray, even: np.ndarray, limit: int, start: float, stop: float) -> int:
    """Rows from the edge that belong to a band: it must begin within a few rows of the
    edge with even rows of ``start`` brightness, lasts while the median stays above
    ``stop`` (through the shutter's blurred, uneven ramp) and ends before ``limit``."""
    first = next((i for i in range(min(limit, _BAND_SLACK)) if profile[i] >= start and even[i]), None)
    if first is None:
        return 0
    depth = first
    while depth < limit and profile[depth] >= stop:
        depth += 1
    # A shutter ends in a drop to the background; brightness that goes on past the
    # limit is anatomy filling the field (a tightly collimated wrist), not a band.
    return depth if depth < limit else 0


def _otsu(gray: np.ndarray, low: float, high: float) -> float:
    """Otsu's threshold on the [low, high] range of ``gray``."""
    scaled = np.clip((gray - low) / max(high - low, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return low + float(level) / 255.0 * (high - low)
