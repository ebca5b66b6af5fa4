"""Grad-CAM heatmaps blended over the CLAHE image, encoded as PNG.

The base is the same CLAHE-equalised image the model saw, so what the reader sees
under the colours is what the model looked at. OpenCV's colour mapping, blending
and PNG encoding release the GIL, so callers can render many images in a thread pool.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.imaging.png import encode_png
from screening.vocabulary import DEFAULT_OVERLAY_COLORMAP, OVERLAY_COLORMAPS

_OPENCV_COLORMAPS = {"jet": cv2.COLORMAP_JET, "hot": cv2.COLORMAP_HOT, "viridis": cv2.COLORMAP_VIRIDIS}
# The product's overlay names (screening.vocabulary) mapped to OpenCV's colour maps.
COLORMAPS: dict[str, int] = {name: _OPENCV_COLORMAPS[name] for name in OVERLAY_COLORMAPS}
HEATMAP_WEIGHT = 0.4


def blend_overlay(clahe: np.ndarray, heatmap: np.ndarray, colormap: str = DEFAULT_OVERLAY_COLORMAP) -> np.ndarray:
    """BGR uint8 image (h, w, 3): the colour-mapped heatmap over the grey CLAHE image."""
    if clahe.ndim != 2 or clahe.dtype != np.uint8:
        raise ValueError(f"clahe must be a 2-D uint8 image, got {clahe.dtype} {clahe.shape}")
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heatmap.shape}")
    if colormap not in COLORMAPS:
        raise ValueError(f"unknown colormap {colormap!r}; choose from {sorted(COLORMAPS)}")
    height, width = clahe.shape
    if heatmap.shape != clahe.shape:
        heatmap = cv2.resize(heatmap.astype(np.float32), (width, height),
                             interpolation=cv2.INTER_LINEAR)
    levels = np.clip(np.nan_to_num(heatmap) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    coloured = cv2.applyColorMap(levels, COLORMAPS[colormap])
    base = cv2.cvtColor(clahe, cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(base, 1.0 - HEATMAP_WEIGHT, coloured, HEATMAP_WEIGHT, 0.0)


def render_overlays(clahe: np.ndarray, heatmap: np.ndarray,
                    colormaps: tuple[str, ...] = OVERLAY_COLORMAPS) -> dict[str, bytes]:
    """PNG bytes of the heatmap over ``clahe`` for each colormap name."""
    return {name: encode_png(blend_overlay(clahe, heatmap, name)) for name in colormaps}
