"""Colour handling shared by the PNG/JPEG and DICOM readers.

Radiographs are gray, but hospitals export them as RGB JPEGs often enough that colour
channels alone prove nothing. The colourfulness measure tells a gray picture stored in
RGB (measure near 0, a little more with JPEG chroma noise) from a photograph of a
hand or a screen (measure well above 15).
"""

from __future__ import annotations

import cv2
import numpy as np

# Colourfulness needs only the global colour statistics; 256 px on the longer side
# keeps it well under a millisecond on a 20-megapixel photograph.
_STATS_SIDE = 256


def _subsample(image: np.ndarray, side: int = _STATS_SIDE) -> np.ndarray:
    step = max(1, max(image.shape[0], image.shape[1]) // side)
    return image[::step, ::step]


def colorfulness(rgb: np.ndarray, full_scale: float) -> float:
    """Hasler and Suesstrunk (2003) colourfulness of an (H, W, 3) RGB array, on a 0-255 scale.

    ``full_scale`` is the value of full intensity (255 for 8-bit, 65535 for 16-bit), so
    the measure means the same for every bit depth.
    """
    sample = _subsample(rgb).astype(np.float32) * np.float32(255.0 / full_scale)
    red, green, blue = sample[..., 0], sample[..., 1], sample[..., 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    spread = float(np.hypot(rg.std(), yb.std()))
    mean = float(np.hypot(rg.mean(), yb.mean()))
    return spread + 0.3 * mean


def rgb_to_gray(rgb: np.ndarray, full_scale: float) -> np.ndarray:
    """Luma (ITU-R BT.601 weights) as float32 in [0, 1].

    OpenCV converts in the source dtype, so a 20-megapixel RGB photo never becomes a
    240 MB float32 copy.
    """
    if rgb.dtype not in (np.uint8, np.uint16):
        rgb = rgb.astype(np.float32)
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return np.clip(gray.astype(np.float32) / np.float32(full_scale), 0.0, 1.0)
