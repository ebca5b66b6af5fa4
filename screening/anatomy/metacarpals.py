"""Find the 2nd-5th metacarpals of a PA hand radiograph: labelled axes and mid-shafts.

Classical image analysis, no training labels. On a 320-pixel copy: the film region
(flat scan padding excluded), a hand outline by two-level Otsu, the hand turned
fingers-up (the outline's long axis, then the fingers' lean over the palm), the level
of the finger webs (the lowest row cut into three or more runs). Below the webs a white
top-hat profile across the palm shows one peak per shaft; each is traced along its
ridge and fitted with a straight axis, and its waist (narrowest stretch) is the first
guess of mid-shaft. The thumb's side labels the rays MC5, MC4, MC3, MC2 from the little
finger; when the cues for that side disagree, or the shafts are irregularly spaced or
not parallel, the hand or ray is refused: a wrong label puts a line on the wrong bone.

Coordinates returned are in the *input* array's pixel frame.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import find_peaks

logger = logging.getLogger(__name__)

#: Longest side of the working image used to find the bones (not to measure them).
WORK_SIDE = 320

Point = tuple[float, float]

_RAY_ORDER = ("MC5", "MC4", "MC3", "MC2")
#: Largest deviation of a ray's direction from the fan of the other rays.
MAX_FAN_DEVIATION_DEG = 15.0
#: Share of its convex hull above which a bright component is an exposure field, not a hand.
FIELD_SOLIDITY = 0.92
#: Thresholds tried from the soft-tissue level towards the bone level for the hand outline.
MASK_LEVELS = 4
MASK_LADDER_TOP = 0.5
#: How much clearer (finger-row share) a later outline candidate must be to replace an earlier one.
OUTLINE_MARGIN = 0.05
#: Turns by the fingers' lean when making the hand upright (each re-reads the lean).
UPRIGHT_TURNS = 3
#: Rows of the palm profile that finds the shafts, in finger spans (fingertip to webs) below
#: the webs. 1.2 used 0.2-0.4: where the webs lie further from the metacarpal heads (on the
#: phantoms, at mid-phalanx), those rows crossed the proximal phalanges and the bands went
#: on them. On a real hand the metacarpal runs from about 0.25 to 1.25 spans below the webs,
#: so 0.45-0.65 is on its distal half there and still on the metacarpal on the phantoms.
PALM_ROWS = (0.45, 0.65)
#: The waist (mid-shaft) is sought no nearer the webs than this (spans): a phalanx is
#: narrower than a metacarpal, so its shaft must not be in the search (1.2: 0.1).
WAIST_FROM = 0.45


@dataclass(frozen=True)
class Ray:
    """One metacarpal found in the image: its axis from base (proximal) to head (distal)."""

    bone: str  # "MC2" | "MC3" | "MC4" | "MC5"
    base: Point
    head: Point
    width_px: float  # rough outer width from the working image, for the profile range
    mid: Point  # centre of the diaphysis on the axis: where the mid-shaft band goes
    web: Point | None = None  # the axis point level with the finger webs: metacarpals lie proximal of it
    ends_seen: bool = True  # False: the bone's bright extent was short, its waist may not be mid-shaft

    @property
    def length(self) -> float:
        return math.dist(self.base, self.head)


@dataclass(frozen=True)
class HandLayout:
    """What the localisation found: the labelled rays or why there are none."""

    rays: tuple[Ray, ...]
    reason: str


def _film_region(small: np.ndarray) -> np.ndarray:
    """Pixels that belong to the radiograph, not to the flat padding around a scanned film.

    Exported films are often pasted on a uniform black (or white) canvas; the canvas is
    a large region of exactly one value touching the image border. Everything else is
    film, on which the thresholds below are computed.
    """
    valid = np.ones(small.shape, bool)
    for level in (float(small.min()), float(small.max())):
        flat = (np.abs(small - level) <= 1.0 / 255).astype(np.uint8)
        _count, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=4)
        border = set(labels[0, :]) | set(labels[-1, :]) | set(labels[:, 0]) | set(labels[:, -1])
        for label in border:
            if label and stats[label, cv2.CC_STAT_AREA] > 0.02 * small.size:
                valid &= labels != label
    if valid.mean() < 0.2:
        return np.ones(small.shape, bool)
    return cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def _normalise(pixels: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Stretch the film's 1st-99.5th percentile to [0, 1] so exposure does not move thresholds."""
    lo, hi = np.percentile(pixels[valid], (1.0, 99.5))
    if not hi > lo + 1e-3:
        return np.zeros_like(pixels, dtype=np.float32)
    out = np.clip((pixels - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    out[~valid] = 0.0
    return out


def _blank_bright_borders(work: np.ndarray) -> np.ndarray:
    """Zero the uniformly bright film edges and collimation frames along the image sides.

    Such a frame is brighter than the soft tissue and touches the hand, so it would
    otherwise join the hand mask. A line counts as frame while nearly all its pixels
    are bright; at most 15 % of each side is removed.
    """
    out = work.copy()
    bright = work > 0.5
    for axis in (0, 1):  # rows from the top and bottom, then columns from left and right
        lines = bright if axis == 0 else bright.T
        target = out if axis == 0 else out.T  # a view: writing to it writes to ``out``
        limit = int(0.15 * lines.shape[0])
        for indices in (range(limit), range(lines.shape[0] - 1, lines.shape[0] - 1 - limit, -1)):
            for i in indices:
                if lines[i].mean() < 0.9:
                    break
                target[i] = 0.0
    return out


def _hand_masks(work: np.ndarray, valid: np.ndarray) -> Iterator[np.ndarray]:
    """Candidate hand outlines, the most complete (lowest threshold) first.

    The first candidate is the outline of 1.1 (two-level Otsu). Then (1.2) the threshold
    is raised in steps, up to halfway towards the bone level, which separates fingers
    that soft tissue or a bright background joined (higher steps cut into the palm and
    lose shafts). The caller keeps the one that shows its fingers most clearly. Many
    films also show the collimated exposure field as a bright, nearly convex rectangle
    on a darker surround, which a threshold takes whole; a hand is far from convex
    (fingers), so such a component is taken as the field and
    the ladder is run again inside it.
    """
    region = valid
    for _ in range(3):
        levels = _otsu_levels(work, region)
        if levels is None:
            return
        low, high = levels
        field: tuple[np.ndarray, np.ndarray] | None = None
        for level in low + (high - low) * np.linspace(0.0, MASK_LADDER_TOP, MASK_LEVELS):
            found = _bright_component(work, region, float(level))
            if found is None:
                continue
            mask, unfilled = found
            if _looks_like_field(mask):
                # The highest level's field is the tightest; one that fills the whole
                # region says nothing about where the hand is.
                if mask.sum() < 0.9 * region.sum():
                    field = (mask, unfilled)
                continue
            stripped = _strip_border_bands(mask, region)
            if stripped is not None:
                yield stripped
        if field is None:
            return
        filled, ring = field
        # A solid field holds the hand; a ring (a bright surround around a dark frame,
        # filled by the hole filling) holds it in its hole.
        inside = cv2.erode(filled, np.ones((7, 7), np.uint8)).astype(bool) & region
        if ring.sum() < 0.9 * filled.sum():
            inside &= ~cv2.dilate(ring, np.ones((7, 7), np.uint8)).astype(bool)
        if inside.sum() < 0.1 * filled.sum():
            return
        region = inside


def _looks_like_field(mask: np.ndarray) -> bool:
    """True for a component that fills its convex hull: an exposure field, not a hand."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return False
    contour = max(contours, key=cv2.contourArea)
    hull = cv2.contourArea(cv2.convexHull(contour))
    return hull > 0 and cv2.contourArea(contour) / hull > FIELD_SOLIDITY and mask.mean() > 0.1


def _strip_border_bands(mask: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """Drop bands along the image sides where the mask spans nearly the whole film line.

    A bright strip along a film edge (vignetting, a label) joins the fingertips into one
    run; a hand reaches a side only with the forearm, which spans a part of the line.
    At most 15 % of each side is removed, then the largest component is kept again.
    """
    out = mask.copy()
    for axis in (0, 1):
        lines = out if axis == 0 else out.T  # a view: writing to it writes to ``out``
        film = region if axis == 0 else region.T
        limit = int(0.15 * lines.shape[0])
        for indices in (range(limit), range(lines.shape[0] - 1, lines.shape[0] - 1 - limit, -1)):
            for i in indices:
                if lines[i].sum() < 0.8 * max(int(film[i].sum()), 1):
                    break
                lines[i] = 0
    return _largest(out)


def _largest(mask: np.ndarray) -> np.ndarray | None:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == largest).astype(np.uint8)


def _otsu_levels(work: np.ndarray, valid: np.ndarray) -> tuple[float, float] | None:
    """(background/soft-tissue level, soft-tissue/bone level) on the 8-bit blurred image.

    One Otsu threshold over the film splits bone from the rest and cuts the thin
    fingers' soft tissue away; a second Otsu over the pixels below the first separates
    background from soft tissue, which is the outline wanted.
    """
    film = _blurred8(work)[valid]
    if film.size < 100:
        return None
    first, _ = cv2.threshold(film.reshape(1, -1), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    below = film[film < first]
    second = first
    if below.size > 100:
        second, _ = cv2.threshold(below.reshape(1, -1), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return max(float(second), 0.35 * float(first)), float(first)


def _blurred8(work: np.ndarray) -> np.ndarray:
    return np.round(cv2.GaussianBlur(work, (0, 0), 1.5) * 255).astype(np.uint8)


def _bright_component(work: np.ndarray, valid: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Largest component above ``level`` (hand and forearm over dark background): (holes filled, as found)."""
    mask = ((_blurred8(work) > level) & valid).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))  # drops thin film edges
    largest = _largest(mask)
    if largest is None:
        return None
    filled = largest.copy()
    contours, _ = cv2.findContours(largest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)  # fill holes
    return filled, largest


def _row_runs(row: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """(start, end) of the runs of ones in a 0/1 row at least ``min_len`` long."""
    padded = np.concatenate(([0], row.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= min_len]


def _finger_rows(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Rows of an upright mask cut into at least three runs (fingers above the webs).

    Runs shorter than ``min_len`` are removed by a horizontal opening first, then the
    runs of every row are counted at once from the rising edges.
    """
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, max(min_len, 1)), np.uint8))
    rising = np.diff(opened.astype(np.int8), axis=1, prepend=0) == 1
    return rising.sum(axis=1) >= 3


def _upright(work: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """Rotate so the fingers point up; returns (image, mask, 2x3 affine work->upright, score).

    The long axis comes from the mask's second moments; of its two directions the one
    whose end shows finger rows (several runs) is distal. The score, the share of
    finger rows in the distal half less that in the proximal half, says how clearly the
    outline shows separate fingers.
    """
    ys, xs = np.nonzero(mask)
    if xs.size < 100:
        return None
    cx, cy = float(xs.mean()), float(ys.mean())
    cov = np.cov(np.vstack([xs - cx, ys - cy]))
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, int(np.argmax(evals))]
    side = math.ceil(math.hypot(*work.shape))
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
    for sign in (1.0, -1.0):
        direction = sign * major  # candidate distal direction, image coordinates
        # Rotate so that `direction` maps to (0, -1), i.e. up.
        angle = math.degrees(math.atan2(direction[0], -direction[1]))
        matrix = cv2.getRotationMatrix2D((cx, cy), -angle, 1.0)
        matrix[:, 2] += np.array([side / 2 - cx, side / 2 - cy])
        up_mask = cv2.warpAffine(mask, matrix, (side, side), flags=cv2.INTER_NEAREST)
        rows = np.flatnonzero(up_mask.any(axis=1))
        if rows.size < 10:
            continue
        top, bottom = rows[0], rows[-1]
        min_len = max(2, int(0.035 * (bottom - top)))
        fingers = _finger_rows(up_mask, min_len)
        upper = fingers[top : top + (bottom - top) // 2].mean()
        lower = fingers[bottom - (bottom - top) // 2 : bottom + 1].mean()
        score = upper - lower
        if best is None or score > best[0]:
            up_img = cv2.warpAffine(work, matrix, (side, side), flags=cv2.INTER_LINEAR)
            best = (score, up_img, up_mask, matrix)
    if best is None or best[0] <= 0.05:
        return None
    up_img, up_mask, matrix = best[1], best[2], best[3]
    # The forearm pulls the mask's long axis off the hand's (ulnar deviation): turn by
    # the angle between the palm's centre and the fingers' centre as well. Rows cut
    # leaning fingers obliquely, which misplaces the webs that the angle is read from,
    # so the turn is repeated until the fingers stand upright (1.2; 1.1 turned once).
    for _ in range(UPRIGHT_TURNS):
        tilt = _finger_tilt(up_mask)
        if tilt is None or abs(tilt) < 2.0:
            break
        turn = cv2.getRotationMatrix2D((side / 2, side / 2), tilt, 1.0)  # positive: counter-clockwise
        matrix = (np.vstack([turn, [0, 0, 1]]) @ np.vstack([matrix, [0, 0, 1]]))[:2]
        up_mask = cv2.warpAffine(mask, matrix, (side, side), flags=cv2.INTER_NEAREST)
    if matrix is not best[3]:
        up_img = cv2.warpAffine(work, matrix, (side, side), flags=cv2.INTER_LINEAR)
    return up_img, up_mask, matrix, best[0]


def _finger_tilt(up_mask: np.ndarray) -> float | None:
    """Degrees the fingers lean from vertical (positive: towards +x) in an upright mask.

    Measured from the palm's centre (widest run of each row below the webs, so a
    separate thumb does not pull it) to the centre of the finger runs above the webs.
    """
    rows = np.flatnonzero(up_mask.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    min_len = max(2, int(0.035 * (bottom - top)))
    fingers = np.flatnonzero(_finger_rows(up_mask, min_len)[: top + int(0.7 * (bottom - top))])
    if fingers.size == 0:
        return None
    web = int(fingers.max())
    span = web - top
    finger_pts = [((a + b) / 2, y) for y in range(top + int(0.3 * span), web)
                  for a, b in _row_runs(up_mask[y], min_len)]
    palm_pts = []
    for y in range(web + int(0.1 * span), min(web + int(0.6 * span), up_mask.shape[0])):
        runs = _row_runs(up_mask[y], min_len)
        if runs:
            a, b = max(runs, key=lambda r: r[1] - r[0])
            palm_pts.append(((a + b) / 2, y))
    if len(finger_pts) < 5 or len(palm_pts) < 5:
        return None
    fx, fy = np.mean(finger_pts, axis=0)
    px, py = np.mean(palm_pts, axis=0)
    return math.degrees(math.atan2(fx - px, py - fy))


def _smooth1d(values: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(int(3 * sigma), 1)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / max(sigma, 1e-3)) ** 2)
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, radius, mode="edge"), kernel, mode="valid")


def _fit_line(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float, float]:
    """Robust x = a + b*y by iteratively dropping outliers; returns (a, b, rms)."""
    keep = np.ones(ys.size, bool)
    a = b = 0.0
    rms = float("inf")
    for _ in range(3):
        if keep.sum() < 4:
            break
        b, a = np.polyfit(ys[keep], xs[keep], 1)
        resid = np.abs(xs - (a + b * ys))
        rms = float(np.sqrt(np.mean(resid[keep] ** 2)))
        keep = resid <= max(2.5 * rms, 1.0)
    return float(a), float(b), rms


def locate_metacarpals(pixels: np.ndarray) -> HandLayout:
    """Find MC2-MC5 axes in ``pixels`` (2-D float in [0, 1], bone bright).

    Returns rays in the input frame, or none with the reason for a clinician.
    """
    height, width = pixels.shape
    scale = WORK_SIDE / max(height, width)
    small = cv2.resize(pixels.astype(np.float32),
                       (max(round(width * scale), 1), max(round(height * scale), 1)),
                       interpolation=cv2.INTER_AREA)
    valid = _film_region(small)
    work = _blank_bright_borders(_normalise(small, valid))
    outlines = 0
    upright = None
    for mask in _hand_masks(work, valid):
        if not 0.04 < mask.mean() < 0.85:
            continue
        outlines += 1
        candidate = _upright(work, mask)
        # The outline that shows its fingers most clearly; an earlier (lower-threshold,
        # more complete) one is kept unless a later one is clearly better.
        if candidate is not None and (upright is None or candidate[3] > upright[3] + OUTLINE_MARGIN):
            upright = candidate
    if not outlines:
        return HandLayout((), "No hand outline could be separated from the background.")
    if upright is None:
        return HandLayout((), "No separated fingers were found, so the metacarpals cannot be told apart "
                              "(not a PA hand view, fingers closed, or a cast).")
    up_img, up_mask, matrix, _score = upright
    inverse = cv2.invertAffineTransform(matrix)

    rows = np.flatnonzero(up_mask.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    min_len = max(2, int(0.035 * (bottom - top)))
    fingers = _finger_rows(up_mask, min_len)
    finger_ys = np.flatnonzero(fingers[: top + int(0.7 * (bottom - top))])
    if finger_ys.size == 0:
        return HandLayout((), "No separated fingers were found.")
    web = int(finger_ys.max())
    span = float(web - top)  # fingertip to web spaces: the hand's scale in work pixels
    if span < 20:
        return HandLayout((), "The hand is too small in the image to measure the metacarpals.")

    # Bone-enhanced image: white top-hat removes the soft-tissue background.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(int(0.3 * span), 5) | 1,) * 2)
    bones = cv2.morphologyEx(up_img, cv2.MORPH_TOPHAT, kernel)
    bones[up_mask == 0] = 0
    # Blurred across about a shaft's half-width, a hollow shaft has one ridge on its centre line.
    ridges = cv2.GaussianBlur(bones, (0, 0), max(0.04 * span, 1.0))
    bones = cv2.GaussianBlur(bones, (0, 0), 0.7)

    y0, y1 = web + int(PALM_ROWS[0] * span), web + int(PALM_ROWS[1] * span)
    if y1 >= bones.shape[0] - 1:
        return HandLayout((), "The metacarpals are cut off by the image edge.")
    profile = cv2.GaussianBlur(bones, (0, 0), max(0.02 * span, 0.8))[y0:y1].mean(axis=0)
    peaks, _props = find_peaks(profile, distance=max(int(0.08 * span), 2), prominence=0.15 * profile.max())
    if peaks.size < 4:
        return HandLayout((), f"Only {peaks.size} metacarpal shafts are visible across the palm; four are needed "
                              "to tell which is which.")
    thumb_left = _thumb_is_left(up_mask, web, span, min_len, peaks)
    if thumb_left is None:
        return HandLayout((), "Which side the thumb is on cannot be told reliably, so the metacarpals "
                              "cannot be labelled.")
    order = peaks[::-1] if thumb_left else peaks  # from the little-finger side
    spacing = np.abs(np.diff(order[:4].astype(float)))
    if spacing.max() > 2.2 * spacing.min():
        return HandLayout((), "The shafts across the palm are irregularly spaced, so which bone is which "
                              "cannot be told reliably.")
    middle = _middle_finger_base(up_mask, web, span, min_len)
    if middle is not None and int(np.argmin(np.abs(order[:4] - middle))) != 2:
        # The longest finger continues the 3rd metacarpal. When the shaft nearest to its
        # base is not the one labelled MC3, the thumb's side was misread or a shaft is
        # missing: the labels would put lines on the wrong bones, so refuse.
        return HandLayout((), "The metacarpal labels disagree with the position of the middle finger, so "
                              "which bone is which cannot be told reliably.")
    rays: list[Ray] = []
    for label, x_start in zip(("MC5", "MC4", "MC3", "MC2"), order[:4], strict=True):
        track = _trace(bones, ridges, int(x_start), web, span)
        if track is None:
            continue
        y_base, x_base, y_head, x_head, y_centre, x_centre, w, ends_seen = track
        base = _to_input(inverse, (x_base, y_base), scale)
        head = _to_input(inverse, (x_head, y_head), scale)
        centre = _to_input(inverse, (x_centre, y_centre), scale)
        slope = (x_head - x_base) / (y_head - y_base) if y_head != y_base else 0.0
        web_point = _to_input(inverse, (x_centre + slope * (web - y_centre), float(web)), scale)
        rays.append(Ray(label, base, head, w / scale, centre, web_point, ends_seen))
    return HandLayout(_parallel_rays(rays), "")


def _parallel_rays(rays: list[Ray]) -> tuple[Ray, ...]:
    """Drop rays whose direction breaks the fan of the others (MC2-MC5 fan out from the carpus).

    A ray far off the others' trend is most often the thumb taken for MC2, or a
    track that left its bone; dropping it turns a wrong line into a refusal.
    """
    def angle(ray: Ray) -> float:
        return math.degrees(math.atan2(ray.head[0] - ray.base[0], -(ray.head[1] - ray.base[1])))

    if len(rays) < 2:
        return tuple(rays)
    angles = [angle(r) for r in rays]
    if len(rays) < 3:
        reference = float(np.median(angles))
        return tuple(r for r, a in zip(rays, angles, strict=True) if abs((a - reference + 180) % 360 - 180) <= 20.0)
    # The metacarpals fan out from the carpus, so each ray's direction is predicted from
    # the trend of the others across the hand (a line through their angles by position),
    # not from their median: MC2 and MC5 legitimately lean 15-25 degrees off the middle
    # rays, while a thumb or a track that left its bone breaks the trend.
    kept = list(rays)
    while len(kept) >= 3:
        # The worst ray against the fan of the others goes first, one at a time, so that
        # a thumb among them does not bend the fan that the true metacarpals are judged by.
        positions = np.array([_RAY_ORDER.index(r.bone) for r in kept], float)
        values = np.unwrap(np.radians([angle(r) for r in kept]))
        deviations = []
        for i in range(len(kept)):
            others = np.arange(len(kept)) != i
            slope, intercept = np.polyfit(positions[others], values[others], 1)
            deviations.append(abs(math.degrees(values[i] - (intercept + slope * positions[i]))))
        worst = int(np.argmax(deviations))
        if deviations[worst] <= MAX_FAN_DEVIATION_DEG:
            break
        kept.pop(worst)
    return tuple(kept)


def _thumb_is_left(mask: np.ndarray, web: int, span: float, min_len: int, peaks: np.ndarray) -> bool | None:
    """Which side the thumb is on, in the upright frame; None when the cues disagree.

    Cues: (1) below the finger webs the thumb is usually still a separate, narrower run
    beside the palm, and each such row votes for the narrow run's side, lower rows more
    (the little finger can hang free just below the webs, the thumb stays separate
    further down); (2) the thumb's metacarpal, when it crosses the palm profile, sits
    after a gap clearly wider than those between MC2-MC5; (3) more hand lies beyond the
    outermost shaft on the thumb side, the weakest cue, used alone only when the first
    two are silent. The first two must agree: swapped labels put every line on the
    wrong bone, so disagreement (or a near tie of the last cue) is a refusal.
    """
    opinions: list[bool] = []
    votes = 0.0
    for y in range(web + int(0.1 * span), min(web + int(1.0 * span), mask.shape[0])):
        runs = _row_runs(mask[y], min_len)
        if len(runs) == 2:
            widths = [b - a for a, b in runs]
            if min(widths) < 0.6 * max(widths):
                votes += (y - web) * (1 if widths[0] < widths[1] else -1)
    if abs(votes) > 0.5 * span:
        opinions.append(votes > 0)
    if peaks.size >= 5:
        gaps = np.diff(peaks.astype(float))
        inner = float(np.median(gaps))
        if max(gaps[0], gaps[-1]) > 1.4 * inner and abs(gaps[0] - gaps[-1]) > 0.4 * inner:
            opinions.append(bool(gaps[0] > gaps[-1]))
    if opinions:
        return opinions[0] if all(o == opinions[0] for o in opinions) else None
    region = mask[max(web - int(0.3 * span), 0) : min(web + int(0.6 * span), mask.shape[0])]
    left, right = int(region[:, : peaks[0]].sum()), int(region[:, peaks[-1] + 1 :].sum())
    if abs(left - right) <= 0.2 * max(left, right, 1):
        return None
    return left > right


def _middle_finger_base(mask: np.ndarray, web: int, span: float, min_len: int) -> float | None:
    """x where the longest finger's axis, carried on, crosses the palm profile rows; None if not traced.

    The middle finger reaches highest in an upright PA hand and lies in line with the
    3rd metacarpal. It is followed from its tip towards the webs, one row at a time,
    along the run that overlaps the previous one, until it merges with a neighbour (its
    run widens suddenly); a line through the centres of its lower half is carried on to
    the rows where the shafts are found.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0 or rows[0] >= web:
        return None
    top = int(rows[0])
    xs = np.flatnonzero(mask[top])
    a, b = int(xs[0]), int(xs[-1]) + 1
    track: list[tuple[int, float, int]] = []
    for y in range(top + 1, web + 1):
        runs = [r for r in _row_runs(mask[y], 1) if r[0] < b and r[1] > a]
        if len(runs) != 1:
            break
        ra, rb = runs[0]
        if len(track) >= 5 and rb - ra > 1.5 * float(np.median([w for _, _, w in track])):
            break  # merged with a neighbouring finger
        a, b = ra, rb
        track.append((y, (a + b) / 2.0, b - a))
    if len(track) < max(10, int(0.3 * span)) or float(np.median([w for _, _, w in track])) < min_len:
        return None
    lower = np.array(track[len(track) // 2 :], float)
    slope, intercept = np.polyfit(lower[:, 0], lower[:, 1], 1)
    return float(intercept + slope * (web + 0.5 * sum(PALM_ROWS) * span))


def _to_input(inverse: np.ndarray, point: Point, scale: float) -> Point:
    x, y = point
    u = inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]
    v = inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]
    return (float((u + 0.5) / scale - 0.5), float((v + 0.5) / scale - 0.5))


def _trace(
    bones: np.ndarray, ridges: np.ndarray, x_start: int, web: int, span: float
) -> tuple[float, float, float, float, float, float, float, bool] | None:
    """Follow one shaft up and down from the palm profile peak; fit its axis and find its ends.

    The centre line is followed on the ridge image while it stays at least half as bright
    as where it started, i.e. along the shaft and not across the joints.
    Returns (y_base, x_base, y_head, x_head, y_mid, x_mid, width, ends_seen) in the
    upright working frame.
    """
    height, width = bones.shape
    window = max(int(0.04 * span), 2)
    ys, xs = [], []
    y_mid = web + int(0.5 * sum(PALM_ROWS) * span)
    start_level = float(ridges[y_mid, x_start]) if 0 <= y_mid < height else 0.0
    for direction in (1, -1):
        x = float(x_start)
        y = y_mid
        while web <= y <= web + 1.0 * span and 0 <= y < height:
            lo, hi = max(int(x) - window, 0), min(int(x) + window + 1, width)
            segment = ridges[y, lo:hi]
            if segment.size == 0 or segment.max() < 0.5 * start_level:
                break
            x = float(lo + int(np.argmax(segment)))
            ys.append(y)
            xs.append(x)
            y += direction * 2
    if len(ys) < 6:
        return None
    a, b, rms = _fit_line(np.asarray(ys, float), np.asarray(xs, float))
    if abs(b) > math.tan(math.radians(35)) or rms > 0.06 * span:
        return None
    # Ends: intensity along the axis, bone where the top-hat stays above half the shaft level.
    t = np.arange(web - 0.4 * span, min(web + 1.6 * span, height - 1), 0.5)
    x_axis = a + b * t
    inside = (x_axis >= 0) & (x_axis < width - 1)
    t, x_axis = t[inside], x_axis[inside]
    values = cv2.remap(bones, x_axis.astype(np.float32)[None, :], t.astype(np.float32)[None, :],
                       cv2.INTER_LINEAR)[0]
    values = _smooth1d(values, 1.0)
    mid_index = int(np.argmin(np.abs(t - y_mid)))
    shaft = float(np.median(values[max(mid_index - 10, 0) : mid_index + 10]))
    if shaft <= 0:
        return None
    above = values > 0.6 * shaft
    # Head: walk distally from mid-shaft to the MCP joint gap; base: proximally to the CMC joint.
    head_stop = int(np.searchsorted(t, y_mid - 0.75 * span))
    base_stop = int(np.searchsorted(t, y_mid + 0.9 * span))
    lo = mid_index
    while lo > head_stop and above[lo - 1]:
        lo -= 1
    hi = mid_index
    while hi < min(base_stop, values.size - 1) and above[hi + 1]:
        hi += 1
    y_head, y_base = float(t[lo]), float(t[hi])
    if y_base - y_head < 0.2 * span:
        return None
    # Shorter than 0.3 of the finger span: the walk stopped inside the bone (a dark
    # medulla or an open growth plate), so the waist below may not be mid-shaft. The ray
    # is kept, and measured only where the full-resolution joint gaps place the band.
    ends_seen = y_base - y_head >= 0.3 * span
    # Mid-shaft: the middle of the diaphysis, the narrow stretch around the bone's waist.
    # Found from widths, not from the ends, so a missed joint gap cannot move the band
    # onto a metaphysis.
    # The metacarpal shafts lie below the finger webs (the webs are level with the proximal
    # phalanges), so the waist is sought there only: a phalanx is narrower than a metacarpal.
    ys_axis = np.arange(max(y_head, web + WAIST_FROM * span), y_base + 0.5, 1.0)
    if ys_axis.size < 5:
        return None
    widths = np.array([_shaft_width(ridges[round(y)], a + b * y, span) for y in ys_axis])
    widths = _smooth1d(widths, max(0.03 * span, 1.0))
    inner = slice(int(0.15 * widths.size), max(int(0.85 * widths.size), int(0.15 * widths.size) + 1))
    waist = inner.start + int(np.argmin(widths[inner]))
    narrow = widths <= 1.2 * widths[waist]
    d0 = waist
    while d0 > 0 and narrow[d0 - 1]:
        d0 -= 1
    d1 = waist
    while d1 < widths.size - 1 and narrow[d1 + 1]:
        d1 += 1
    y_centre = float(ys_axis[(d0 + d1) // 2])
    bone_width = float(widths[(d0 + d1) // 2])
    return y_base, a + b * y_base, y_head, a + b * y_head, y_centre, a + b * y_centre, bone_width, ends_seen


def _shaft_width(row: np.ndarray, x_centre: float, span: float) -> float:
    """Full width at half maximum of the shaft around ``x_centre`` on one ridge-image row.

    On the blurred ridge image a hollow shaft is single-peaked, so the walk from the
    centre outwards does not stop in the medulla; blur widens every bone alike, which
    keeps the comparison along one bone fair.
    """
    centre = round(x_centre)
    reach = int(0.15 * span)
    lo, hi = max(centre - reach, 0), min(centre + reach + 1, row.size)
    if hi - lo < 3:
        return 0.1 * span
    segment = row[lo:hi]
    half = 0.5 * float(segment.max())
    left = centre - lo
    right = centre - lo
    while left > 0 and segment[left - 1] > half:
        left -= 1
    while right < segment.size - 1 and segment[right + 1] > half:
        right += 1
    return float(max(right - left + 1, 2))
