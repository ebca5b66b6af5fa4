"""THE preprocessing shared by training and inference: letterbox resize, CLAHE, 3 channels.

Training and the inference workers must call exactly this function with exactly the
parameters stored in the model card (:class:`PreprocessParams`); any difference is a
silent accuracy loss.

Order of operations, and why:

1. **Resize first** (aspect ratio kept; INTER_AREA when shrinking, which averages
   detector noise instead of aliasing it; bilinear when enlarging). CLAHE then runs
   on ``size`` x ``size`` pixels instead of 5-20 megapixels: 0.3 ms instead of 11 ms
   (8-bit) or 22 ms (16-bit) for a 3.8-megapixel CR on one core, next to the 7 ms
   the resize itself costs; workers process thousands of images. It also makes the
   result independent of the source resolution: the RSNA training images are
   downscaled about 2x, hospital uploads are not, and CLAHE tiles and their
   histograms now see the same anatomy at the same pixel count either way.
2. **CLAHE on 8 bits, on the image content only, before padding.** OpenCV computes
   the clip limit as ``clip_limit * tile_pixels / bins``; with the 65,536 bins of a
   16-bit histogram that floors to 1 or 2 for any tile under 256 x 256 pixels, so
   ``clip_limit`` would stop meaning anything. With 256 bins it means what the CLAHE literature means.
   Running it before padding keeps the letterbox exactly black (CLAHE would lift a
   uniform tile) and keeps the pad out of the neighbouring tiles' histograms.
3. **Pad to a square** with black, content centred, and replicate gray to 3 channels
   as float32 in [0, 255]: the Keras EfficientNetV2 backbones normalise internally
   (``include_preprocessing=True``) and the compact CNN has its own Rescaling layer.
   The risk model's inputs are square hand crops (:mod:`screening.anatomy.prepare`),
   so for them nothing is padded; the gate's view of a whole film is letterboxed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np


@dataclass(frozen=True)
class PreprocessParams:
    """The preprocessing settings a model was trained with; stored in its model card."""

    size: int = 224
    clip_limit: float = 2.0
    tile_grid: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 8:
            raise ValueError(f"size must be an integer of at least 8 pixels, got {self.size!r}")
        if not isinstance(self.tile_grid, int) or not 1 <= self.tile_grid <= self.size:
            raise ValueError(f"tile_grid must be an integer between 1 and size ({self.size}), got {self.tile_grid!r}")
        if not self.clip_limit > 0:
            raise ValueError(f"clip_limit must be positive, got {self.clip_limit!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PreprocessParams:
        """Rebuild from a model card; unknown keys are an error, so a card written by a
        newer preprocessing is never silently applied with different settings."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown preprocessing parameters in model card: {', '.join(unknown)}")
        return cls(
            size=int(values.get("size", cls.size)),
            clip_limit=float(values.get("clip_limit", cls.clip_limit)),
            tile_grid=int(values.get("tile_grid", cls.tile_grid)),
        )


@dataclass(frozen=True)
class PreparedImage:
    """``model_input``: float32 (size, size, 3) in [0, 255]. ``clahe``: uint8 (size, size),
    the same enhanced gray image, for Grad-CAM overlays and reports."""

    model_input: np.ndarray
    clahe: np.ndarray


def preprocess(pixels: np.ndarray, size: int = 224, clip_limit: float = 2.0, tile_grid: int = 8) -> PreparedImage:
    """Decoded gray pixels (2-D, float in [0, 1], bone bright) -> model input and CLAHE image."""
    params = PreprocessParams(size=size, clip_limit=clip_limit, tile_grid=tile_grid)
    content = _clean(_resize_to_fit(_as_gray(pixels), params.size))
    enhanced = _clahe_8bit(content, params)
    square = _pad_centred(enhanced, params.size)
    model_input = np.repeat(square[:, :, np.newaxis], 3, axis=2).astype(np.float32)
    return PreparedImage(model_input=model_input, clahe=square)


def _as_gray(pixels: np.ndarray) -> np.ndarray:
    array = np.asarray(pixels)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"preprocess expects a non-empty 2-D gray image, got shape {array.shape}")
    return array.astype(np.float32, copy=False)


def _clean(content: np.ndarray) -> np.ndarray:
    """NaN/inf and out-of-range values are fixed after resizing, on size^2 pixels, not megapixels."""
    return np.clip(np.nan_to_num(content, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def _resize_to_fit(gray: np.ndarray, size: int) -> np.ndarray:
    """Scale so the longer side is ``size``; the shorter keeps the aspect ratio (at least 1 px)."""
    height, width = gray.shape
    scale = size / max(height, width)
    new_width = min(size, max(1, round(width * scale)))
    new_height = min(size, max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, (new_width, new_height), interpolation=interpolation)


def _clahe_8bit(content: np.ndarray, params: PreprocessParams) -> np.ndarray:
    as_8bit = np.clip(content * 255.0 + 0.5, 0, 255).astype(np.uint8)
    clahe = cv2.createCLAHE(clipLimit=float(params.clip_limit), tileGridSize=(params.tile_grid, params.tile_grid))
    return clahe.apply(as_8bit)


def _pad_centred(content: np.ndarray, size: int) -> np.ndarray:
    square = np.zeros((size, size), dtype=np.uint8)
    top = (size - content.shape[0]) // 2
    left = (size - content.shape[1]) // 2
    square[top : top + content.shape[0], left : left + content.shape[1]] = content
    return square
