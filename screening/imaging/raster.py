"""PNG and JPEG radiographs through Pillow: 8- or 16-bit, gray or colour.

Pillow reads only the header on ``Image.open``; the size is checked there, before
``load()`` decodes a single pixel, so a crafted header cannot make a worker allocate
gigabytes. Every Pillow failure (truncation, corrupt chunks, its own
DecompressionBombError) comes out as :class:`DecodeError`.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageOps

from .colour import colorfulness, rgb_to_gray
from .decoded import DecodedImage, DecodeError, ImageMetadata, check_pixel_limit

_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_GRAY_MODES = {"1", "L", "LA"} | _SIXTEEN_BIT_MODES


def decode_raster(data: bytes, source_format: str, max_pixels: int) -> DecodedImage:
    """Decode PNG or JPEG bytes (``source_format`` already sniffed from magic bytes)."""
    label = _FORMAT_NAMES[source_format]
    with warnings.catch_warnings():
        # The pixel limit below is ours; Pillow's own warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=[label])
        except Image.DecompressionBombError as exc:
            raise DecodeError(f"The {label} image is far too large to be a radiograph ({exc}).") from exc
        except Exception as exc:
            raise DecodeError(f"The {label} file is damaged: its header cannot be read.") from exc
        with image:
            check_pixel_limit(image.width, image.height, max_pixels)
            try:
                # WeasyPrint sets LOAD_TRUNCATED_IMAGES globally when it is imported (report
                # workers); an upload cut off in transit must still be rejected, never padded.
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                image.load()
                if source_format == "jpeg":
                    image = ImageOps.exif_transpose(image)
                return _to_decoded(image, source_format)
            except DecodeError:
                raise
            except Exception as exc:
                raise DecodeError(
                    f"The {label} file is damaged or incomplete (for example cut off during upload), "
                    "so its pixels cannot be read."
                ) from exc


def _to_decoded(image: Image.Image, source_format: str) -> DecodedImage:
    """Turn a loaded Pillow image into normalised gray pixels plus colour facts."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image)
        if mode == "I" and values.size and (values.min() < 0 or values.max() > 65535):
            raise DecodeError("The PNG holds 32-bit values; only 8- and 16-bit radiographs are supported.")
        pixels = values.astype(np.float32) / np.float32(65535.0)
        return _gray(pixels, source_format, bit_depth=16)
    if mode in _GRAY_MODES:
        gray = np.asarray(image.convert("L"))
        return _gray(gray.astype(np.float32) / np.float32(255.0), source_format, bit_depth=1 if mode == "1" else 8)
    rgb = np.asarray(image.convert("RGB"))
    return DecodedImage(
        pixels=rgb_to_gray(rgb, 255.0),
        source_format=source_format,
        bit_depth=8,
        was_color=True,
        colorfulness=colorfulness(rgb, 255.0),
        metadata=ImageMetadata(),
    )


def _gray(pixels: np.ndarray, source_format: str, bit_depth: int) -> DecodedImage:
    return DecodedImage(
        pixels=np.ascontiguousarray(pixels, dtype=np.float32),
        source_format=source_format,
        bit_depth=bit_depth,
        was_color=False,
        colorfulness=0.0,
        metadata=ImageMetadata(),
    )
