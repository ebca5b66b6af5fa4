"""The format of stored images: what ingest writes and screening reads back.

Only normalised grayscale pixels of the located hand region are stored (a PNG
carries no DICOM header, and the re-encoded pixels no text chunk), so no
identifying tag ever reaches the object store. Stored images are downscaled to
STORED_MAX_SIDE: ample for 224-448 px model inputs and report figures, and ten
times cheaper to store and decode than originals.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.imaging.png import encode_png

STORED_MAX_SIDE = 1024


def stored_image_key(hospital_code: str, batch_id: str, sha256: str) -> str:
    """Object key of a stored image: hospital, batch and content hash, never a patient id."""
    return f"images/{hospital_code}/{batch_id}/{sha256[:24]}.png"


def encode_normalised_png(pixels: np.ndarray) -> bytes:
    """16-bit grayscale PNG of [0, 1] pixels, longest side at most STORED_MAX_SIDE."""
    height, width = pixels.shape
    scale = STORED_MAX_SIDE / max(height, width)
    if scale < 1:
        pixels = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return encode_png(np.clip(pixels * 65535.0 + 0.5, 0, 65535).astype(np.uint16))


def decode_normalised_png(data: bytes) -> np.ndarray:
    """Float32 pixels in [0, 1] of a stored image (16-bit from encode_normalised_png, or a stripped original)."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim != 2:
        raise ValueError("stored image is not a grayscale PNG")
    return array.astype(np.float32) / (65535.0 if array.dtype == np.uint16 else 255.0)
