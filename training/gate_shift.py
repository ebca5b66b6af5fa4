"""Acquisition styles the gate's training sources lack, imitated on their own films.

The hand gate learns mostly from FracAtlas: three hospitals, one scanner family, whole
limbs on a gray field. Radiographs from elsewhere differ in ways that have nothing to do
with the body part: a limb on a black background or letterboxed in a larger frame, small
(downsampled, recompressed) films, close-up crops of one joint (a knee, a shoulder),
strongly contrast-enhanced exports, a limb placed diagonally in its frame. A classifier
that has never seen those styles takes them for a cue: close-ups of joints look more like
hands than whole legs do. Each function here turns one training film into the same
anatomy in another style, on the gate's working copy (:func:`screening.anatomy.views.working_copy`,
float32 in [0, 1], longer side <= 384 px), before the gate's own letterbox + CLAHE view.

Crops follow the label. A close-up of a leg, hip or shoulder film is still not a hand,
so those get strong zoomed crops around the anatomy (knees from the Roboflow set around
their annotated knee box). A close-up of a hand film could cut off the metacarpals, which
would make it a film the rule does not accept, and a close-up of a forearm film could
leave only the wrist, which it does: those get only mild crops that keep the located limb.

Not imitated: inverted polarity. The decoder already turns DICOM MONOCHROME1 into bone
bright; an inverted PNG/JPEG hand must not be accepted, because the risk model and the
radiogrammetry read bone as bright, and teaching "inverted means not a hand" would
give such a film a wrong body part as its reason.

:func:`shifted_validation` applies the same styles, with fixed seeds, to the validation
films: the figures on it say how much each style costs, without reading the hold-out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import cv2
import numpy as np

Box = tuple[int, int, int, int]

#: Labels whose films stay "not a hand" however they are cropped.
STRONG_CROP_LABELS = frozenset({"leg_knee_foot", "hip_pelvis", "shoulder_chest"})
#: The styles, in the order the shifted validation reports them ("mixed": a random subset, as in training).
STYLES = ("closeup", "letterbox", "rotate", "small_film", "contrast")


def shift(
    work: np.ndarray, label: str, box: Box | None, rng: np.random.Generator, styles: tuple[str, ...] | None = None
) -> np.ndarray:
    """``work`` (float in [0, 1], or uint8) in other acquisition styles: ``styles``, or a random
    non-empty subset when None.

    ``box`` is where the anatomy is in ``work`` (the knee's annotated box, else the located
    limb), or None for the whole film.
    """
    if styles is None:
        chosen = tuple(name for name, p in _TRAINING_PROBABILITY.items() if rng.random() < p)
        styles = chosen or (str(rng.choice(STYLES)),)
    image = work.astype(np.float32) / 255.0 if work.dtype == np.uint8 else np.asarray(work, dtype=np.float32)
    for name in STYLES:  # a fixed order: crop before framing, framing before resolution and contrast
        if name in styles:
            image = _TRANSFORMS[name](image, label, box, rng)
            box = None  # later styles work on the whole, already transformed film
    return np.clip(image, 0.0, 1.0).astype(np.float32)


_TRAINING_PROBABILITY = {"closeup": 0.5, "letterbox": 0.35, "rotate": 0.35, "small_film": 0.3, "contrast": 0.5}


def closeup(image: np.ndarray, label: str, box: Box | None, rng: np.random.Generator) -> np.ndarray:
    """A zoomed crop around the anatomy: strong for legs, hips and shoulders, mild for hands and forearms."""
    height, width = image.shape
    x0, y0, x1, y1 = box if box is not None else (0, 0, width, height)
    box_w, box_h = max(x1 - x0, 8), max(y1 - y0, 8)
    if label in STRONG_CROP_LABELS:
        if box is not None and max(box_w, box_h) < 0.8 * max(height, width):
            side = max(box_w, box_h) * float(rng.uniform(1.0, 1.8))  # a joint's own box (knees)
            cx = (x0 + x1) / 2 + float(rng.uniform(-0.15, 0.15)) * side
            cy = (y0 + y1) / 2 + float(rng.uniform(-0.15, 0.15)) * side
        else:
            side = float(rng.uniform(0.3, 0.65)) * max(height, width)
            cx, cy = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        aspect = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
        crop_w, crop_h = side * np.sqrt(aspect), side / np.sqrt(aspect)
    else:
        grow = float(rng.uniform(0.9, 1.25))
        crop_w, crop_h = box_w * grow, box_h * grow
        cx = (x0 + x1) / 2 + float(rng.uniform(-0.05, 0.05)) * crop_w
        cy = (y0 + y1) / 2 + float(rng.uniform(-0.05, 0.05)) * crop_h
    return _crop(image, cx, cy, crop_w, crop_h)


def _crop(image: np.ndarray, cx: float, cy: float, crop_w: float, crop_h: float) -> np.ndarray:
    """The crop of that centre and size, shifted to lie inside the image, at least 16 px a side."""
    height, width = image.shape
    w = int(np.clip(round(crop_w), 16, width))
    h = int(np.clip(round(crop_h), 16, height))
    left = int(np.clip(round(cx - w / 2), 0, width - w))
    top = int(np.clip(round(cy - h / 2), 0, height - h))
    return image[top : top + h, left : left + w]


def letterbox(image: np.ndarray, label: str, box: Box | None, rng: np.random.Generator) -> np.ndarray:
    """The film inside a larger, dark frame at a random place: scanned films, screen captures, padded exports."""
    height, width = image.shape
    fill_h, fill_w = (float(v) for v in rng.uniform(0.55, 0.95, 2))
    canvas_h, canvas_w = max(height, round(height / fill_h)), max(width, round(width / fill_w))
    level = float(rng.uniform(0.0, 0.06))
    canvas = np.full((canvas_h, canvas_w), level, np.float32)
    canvas += rng.normal(0.0, float(rng.uniform(0.0, 0.01)), canvas.shape).astype(np.float32)
    top = int(rng.integers(0, canvas_h - height + 1))
    left = int(rng.integers(0, canvas_w - width + 1))
    canvas[top : top + height, left : left + width] = image
    return _fit(canvas)


def rotate(image: np.ndarray, label: str, box: Box | None, rng: np.random.Generator) -> np.ndarray:
    """The limb turned up to 45 degrees inside its own frame (corners filled with the film's background)."""
    height, width = image.shape
    angle = float(rng.uniform(15, 45)) * float(rng.choice([-1, 1]))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    background = float(np.percentile(image, 5))
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=background
    )


def small_film(image: np.ndarray, label: str, box: Box | None, rng: np.random.Generator) -> np.ndarray:
    """Detail lost to a small, recompressed copy: shrunk to 64-224 px, often JPEG-compressed, enlarged back."""
    height, width = image.shape
    side = float(rng.uniform(64, 224))
    scale = min(1.0, side / max(height, width))
    small = cv2.resize(
        image, (max(8, round(width * scale)), max(8, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    if rng.random() < 0.6:
        as_8bit = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
        _ok, encoded = cv2.imencode(".jpg", as_8bit, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 91))])
        small = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def contrast(image: np.ndarray, label: str, box: Box | None, rng: np.random.Generator) -> np.ndarray:
    """Another hospital's display processing: strong CLAHE, histogram equalisation, gamma or a tight window."""
    kind = int(rng.integers(4))
    if kind == 0:  # pre-enhanced exports (e.g. CLAHE'd research crops)
        grid = int(rng.choice([4, 8, 16]))
        clahe = cv2.createCLAHE(clipLimit=float(rng.uniform(2.5, 8.0)), tileGridSize=(grid, grid))
        return clahe.apply(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)).astype(np.float32) / 255.0
    if kind == 1:
        return cv2.equalizeHist(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)).astype(np.float32) / 255.0
    if kind == 2:
        return np.clip(image, 0.0, 1.0) ** float(np.exp(rng.uniform(-0.9, 0.9)))
    # A tight window; a high lower bound turns a gray field black, as on many exported films.
    low, high = np.percentile(image, [float(rng.uniform(0, 50)), float(rng.uniform(75, 100))])
    return np.clip((image - low) / max(float(high - low), 1e-3), 0.0, 1.0)


def _fit(image: np.ndarray, side: int = 384) -> np.ndarray:
    """Shrink to the working copy's size again (a frame makes the film larger)."""
    height, width = image.shape
    scale = min(1.0, side / max(height, width))
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_TRANSFORMS: dict[str, Callable[[np.ndarray, str, Box | None, np.random.Generator], np.ndarray]] = {
    "closeup": closeup,
    "letterbox": letterbox,
    "rotate": rotate,
    "small_film": small_film,
    "contrast": contrast,
}


def shifted_validation(
    works: list[np.ndarray],
    labels: list[str],
    boxes: list[Box | None],
    keys: list[str],
    to_input: Callable[[np.ndarray], np.ndarray],
) -> list[tuple[int, str, np.ndarray]]:
    """(index of the validation film, style, model input): every film once per style and once "mixed".

    Each copy's seed is made of the film's stable key and the style, so the set is the
    same on every run and whatever the order; ``to_input`` turns a shifted working copy
    into the classifier's input (the gate's letterbox + CLAHE view).
    """
    out = []
    for index, (work, label, box, key) in enumerate(zip(works, labels, boxes, keys, strict=True)):
        for style in (*STYLES, "mixed"):
            seed = int.from_bytes(hashlib.sha256(f"{key}|{style}".encode()).digest()[:8], "big")
            rng = np.random.default_rng(seed)
            shifted = shift(work, label, box, rng, None if style == "mixed" else (style,))
            out.append((index, style, to_input(shifted)))
    return out
