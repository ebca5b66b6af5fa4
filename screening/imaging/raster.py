"""PNG, JPEG, WebP and TIFF radiographs through Pillow: 8- or 16-bit, gray or colour.

Pillow reads only the header on ``Image.open``; the size is checked there, before
``load()`` decodes a single pixel, so a crafted header cannot make a worker allocate
gigabytes. Every Pillow failure (truncation, corrupt chunks, its own
DecompressionBombError, a TIFF compression it has no codec for) comes out as
:class:`DecodeError` with a reason a clinician can act on.

WebP and TIFF are what radiographs turn into outside PACS: screen captures and web
downloads (WebP), scanner and viewer exports (TIFF, often 16-bit). A multi-page TIFF or
an animated WebP is read from its first page, as a multi-frame DICOM is from its first frame.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageOps, TiffImagePlugin

from .colour import colorfulness, rgb_to_gray
from .decoded import DecodedImage, DecodeError, ImageMetadata, check_pixel_limit

# Pillow's format names, and the names users know the formats by.
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "tiff": "TIFF"}
_LABELS = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "tiff": "TIFF"}
# Formats whose files carry an EXIF orientation that viewers apply (cameras, phones, scanners).
_ORIENTED = {"jpeg", "webp", "tiff"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_GRAY_MODES = {"1", "L", "LA"} | _SIXTEEN_BIT_MODES


def decode_raster(data: bytes, source_format: str, max_pixels: int) -> DecodedImage:
    """Decode PNG, JPEG, WebP or TIFF bytes (``source_format`` already sniffed from magic bytes)."""
    label = _LABELS[source_format]
    with warnings.catch_warnings():
        # The pixel limit below is ours; Pillow's own warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[source_format]])
        except Image.DecompressionBombError as exc:
            raise DecodeError(f"The {label} image is far too large to be a radiograph ({exc}).") from exc
        except Exception as exc:
            raise DecodeError(_open_failure(data, source_format, label)) from exc
        with image:
            check_pixel_limit(image.width, image.height, max_pixels)
            try:
                # WeasyPrint sets LOAD_TRUNCATED_IMAGES globally when it is imported (report
                # workers); an upload cut off in transit must still be rejected, never padded.
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                image.load()
                white_level = _sixteen_bit_min_is_white(image, source_format)
                if source_format in _ORIENTED:
                    image = ImageOps.exif_transpose(image)
                return _to_decoded(image, source_format, label, white_level)
            except DecodeError:
                raise
            except Exception as exc:
                raise DecodeError(_load_failure(label, exc)) from exc


def _sixteen_bit_min_is_white(image: Image.Image, source_format: str) -> int | None:
    """The largest stored value of a 16-bit TIFF written "min-is-white", else None.

    Pillow turns 8-bit and 1-bit min-is-white TIFFs into ordinary gray (0 black) as it
    reads them, but leaves 16-bit ones as stored, where 0 is white: bone would come out
    dark. Checked before EXIF rotation, which returns an image without TIFF tags.
    """
    if source_format != "tiff" or image.mode not in _SIXTEEN_BIT_MODES:
        return None
    tags = getattr(image, "tag_v2", {})
    if tags.get(262) != 0:  # PhotometricInterpretation: 0 = WhiteIsZero
        return None
    bits = tags.get(258, (16,))
    bits = int(bits[0] if isinstance(bits, tuple) else bits)
    return (1 << min(max(bits, 1), 16)) - 1


def _open_failure(data: bytes, source_format: str, label: str) -> str:
    """Why Pillow could not even open the file.

    A TIFF that Pillow refuses is more often valid but unusual than damaged (JPEG 2000
    compression, 12-bit packed or floating-point samples), so its first directory is read
    to say which.
    """
    if source_format == "tiff":
        compression = _tiff_compression(data)
        if compression is not None and compression not in TiffImagePlugin.COMPRESSION_INFO:
            return (
                f"The TIFF file uses a compression this server cannot decode (TIFF compression {compression}); "
                "export it as PNG, uncompressed TIFF or DICOM."
            )
        return (
            "The TIFF file cannot be read: its header is damaged, or it stores pixels in a layout this server "
            "does not read (only 8- and 16-bit gray and 8-bit colour); export it as PNG or DICOM."
        )
    return f"The {label} file is damaged: its header cannot be read."


def _tiff_compression(data: bytes) -> int | None:
    """The Compression tag of a classic TIFF's first directory, or None when it cannot be read."""
    try:
        directory = TiffImagePlugin.ImageFileDirectory_v2(data[:8])
        stream = io.BytesIO(data)
        stream.seek(directory.next)
        directory.load(stream)
        value = directory.get(259, 1)
        return int(value[0] if isinstance(value, tuple) else value)
    except Exception:  # noqa: BLE001 - a header too damaged to read is reported as such by the caller
        return None


def _load_failure(label: str, exc: Exception) -> str:
    """Why the pixels could not be read: a codec this server lacks, or a damaged file."""
    message = str(exc).lower()
    if "decoder" in message and ("not available" in message or "unknown" in message):
        return (
            f"The {label} file uses a compression this server cannot decode; "
            "export it as PNG, uncompressed TIFF or DICOM."
        )
    return (
        f"The {label} file is damaged or incomplete (for example cut off during upload), "
        "so its pixels cannot be read."
    )


def _to_decoded(image: Image.Image, source_format: str, label: str, white_is: int | None = None) -> DecodedImage:
    """Turn a loaded Pillow image into normalised gray pixels plus colour facts.

    ``white_is``: the stored value of white in a 16-bit min-is-white TIFF, which is inverted here.
    """
    mode = image.mode
    if mode == "F":
        raise DecodeError(
            f"The {label} holds 32-bit floating-point values, which have no fixed gray scale; "
            "export the radiograph as 8- or 16-bit."
        )
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image)
        if mode == "I" and values.size and (values.min() < 0 or values.max() > 65535):
            raise DecodeError(
                f"The {label} holds 32-bit or signed values; only 8- and 16-bit radiographs are supported."
            )
        if white_is is not None:
            pixels = np.clip(1.0 - values.astype(np.float32) / np.float32(white_is), 0.0, 1.0)
        else:
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
