"""Real-film context around a phantom hand: a training-only augmentation of the raw film.

The phantoms (:mod:`training.phantoms`) are square films with an even, dark background,
one small side marker and optional collimation bands. Real hand films are mostly
portrait (the square hand crop of :mod:`screening.anatomy.prepare` then repeats the
film's edge to fill the square), their exposure is uneven, their background is lighter
or darker and grainy, and lead markers, labels and stickers of many shapes lie beside
the hand. A model that never saw such context puts
its Grad-CAM evidence on it, or finds no evidence at all, on real films. None of this
context carries any information about bone density, so adding it to training films,
independently of the label, teaches the model that it is not evidence.

It runs before the hand crop, on the decoded film and the gate's box (which it never
covers or cuts), so everything after it is the shared preprocessing. Each change is
drawn from the generator it is given, so a training set is the same run after run.
Validation and test films are never changed: the phantom metrics stay comparable.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.anatomy.gate import Box

# Probability of each change, and the narrowest film kept, as a share of its height.
P_NARROW, MIN_ASPECT = 0.5, 0.6
P_EXPOSURE, MAX_RAMP = 0.7, 0.12
P_BACKGROUND = 0.7
P_LABELS, MAX_LABELS = 0.7, 3
_LETTERS = ("L", "R", "LT", "RT", "PA", "LEFT", "RIGHT", "12", "7A", "KEV")


def add_film_context(pixels: np.ndarray, box: Box, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """A copy of ``pixels`` (2-D float in [0, 1]) with real-film context, and ``box`` on it."""
    film = np.array(pixels, dtype=np.float32, copy=True)
    if rng.random() < P_NARROW:
        film, box = _narrow(film, box, rng)
    if rng.random() < P_EXPOSURE:
        film = _uneven_exposure(film, rng)
    if rng.random() < P_BACKGROUND:
        film = _background(film, rng)
    if rng.random() < P_LABELS:
        for _ in range(int(rng.integers(1, MAX_LABELS + 1))):
            _label(film, rng)
    return np.clip(film, 0.0, 1.0), box


def _narrow(film: np.ndarray, box: Box, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """Cut columns off a landscape or square film to a portrait one, never into the box."""
    height, width = film.shape
    x0, y0, x1, y1 = box
    new_width = int(rng.uniform(max(x1 - x0, MIN_ASPECT * height), width + 1))
    if new_width >= width:
        return film, box
    left = int(rng.integers(max(0, x1 - new_width), min(x0, width - new_width) + 1))
    return film[:, left : left + new_width], (x0 - left, y0, x1 - left, y1)


def _uneven_exposure(film: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth ramp (the anode heel effect, a scanner's uneven light) added over the film."""
    height, width = film.shape
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (np.cos(angle) * (xs / width - 0.5) + np.sin(angle) * (ys / height - 0.5))
    return film + float(rng.uniform(0.02, MAX_RAMP)) * ramp.astype(np.float32)


def _background(film: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The directly exposed background made lighter or darker and given grain of a random
    scale (film grain, scanner noise): on the phantoms it is an even dark level, and a
    model that saw only that takes the textured background of real films for sparse bone."""
    background, top = (float(v) for v in np.percentile(film, [20, 99]))
    dark = cv2.GaussianBlur((film < background + 0.15 * (top - background)).astype(np.float32), (0, 0), 2.0)
    noise = rng.standard_normal(film.shape).astype(np.float32)
    sigma = float(rng.uniform(0.5, 3.0))
    grain = cv2.GaussianBlur(noise, (0, 0), sigma) - cv2.GaussianBlur(noise, (0, 0), 3.0 * sigma)
    grain /= float(grain.std()) + 1e-6
    shift = float(rng.uniform(-0.03, 0.12))
    return film + dark * (shift + float(rng.uniform(0.005, 0.025)) * grain)


def _label(film: np.ndarray, rng: np.random.Generator) -> None:
    """A lead marker or label (bright plate with dark text, or bright text) on the film's
    background, never on the hand (in place); nothing when no clear spot is found."""
    height, width = film.shape
    side = min(height, width)
    plate_h = max(int(rng.uniform(0.05, 0.14) * side), 6)
    plate_w = max(int(plate_h * rng.uniform(0.5, 2.5)), 6)
    background, top = (float(v) for v in np.percentile(film, [20, 99]))
    clear = background + 0.15 * (top - background)
    spots = [(x, y) for x, y in ((int(rng.integers(0, max(1, width - plate_w))),
                                  int(rng.integers(0, max(1, height - plate_h)))) for _ in range(12))
             if float(film[y : y + plate_h, x : x + plate_w].max()) <= clear]
    if not spots:
        return
    x, y = spots[0]
    text = str(rng.choice(_LETTERS))
    glyphs = np.zeros((plate_h, plate_w), np.uint8)  # OpenCV draws text on 8-bit images only
    scale = plate_h / 40.0
    cv2.putText(glyphs, text, (1, int(plate_h * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, scale, 255,
                max(int(scale * 2.5), 1), cv2.LINE_AA)
    ink = glyphs.astype(np.float32) / 255.0
    bright = float(rng.uniform(0.75, 1.0))
    region = film[y : y + plate_h, x : x + plate_w]
    if rng.random() < 0.5:  # a plate: bright, with the text left dark
        region[:] = bright * (1.0 - 0.8 * ink)
    else:  # lead letters on the film
        region[:] = np.maximum(region, bright * ink)
