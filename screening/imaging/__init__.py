"""Imaging: decoding (PNG/JPEG/WebP/TIFF 8/16-bit, DICOM), CLAHE preprocessing, quality gate.

The batch pipeline calls :func:`inspect_file` per uploaded file (it never raises), then
:func:`preprocess` with the model's :class:`PreprocessParams`.
"""

from .decode import DEFAULT_MAX_PIXELS, DecodedImage, DecodeError, ImageMetadata, decode_image, sniff_format
from .preprocess import PreparedImage, PreprocessParams, preprocess
from .quality import QualityVerdict, assess_quality, inspect_file

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DecodeError",
    "DecodedImage",
    "ImageMetadata",
    "PreparedImage",
    "PreprocessParams",
    "QualityVerdict",
    "assess_quality",
    "decode_image",
    "inspect_file",
    "preprocess",
    "sniff_format",
]
