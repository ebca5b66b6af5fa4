"""What decoding produces: the pixels, what the file said about the patient, and the error.

Kept apart from the decoders so that the Pillow (PNG/JPEG/WebP/TIFF) and DICOM readers can both build
these records without importing each other.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

#: Default decompression-bomb limit. A full-resolution hand CR is 5-10 megapixels and
#: the largest detector plates are about 20; 60 leaves room without letting a crafted
#: header make a worker allocate gigabytes.
DEFAULT_MAX_PIXELS = 60_000_000

#: Pixel spacings (mm) accepted from DICOM tags, a manifest or the command line. A radiograph's
#: spacing lies well inside this range; a value outside it is a typing or unit error (cm, inches,
#: dpi), never a scale to measure millimetres with. The measurement itself refuses the same range.
MIN_PIXEL_SPACING_MM = 0.01
MAX_PIXEL_SPACING_MM = 2.0


def plausible_pixel_spacing(value: float) -> bool:
    """True when ``value`` (mm) lies in the range above: the one rule for every source of a spacing."""
    return MIN_PIXEL_SPACING_MM <= value <= MAX_PIXEL_SPACING_MM


class DecodeError(ValueError):
    """The file cannot be read as an X-ray image; ``reason`` is meant for a clinician."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ImageMetadata:
    """What the file itself says about the patient and study; ``None`` when absent.

    Only DICOM files carry these; PNG, JPEG, WebP and TIFF uploads get their age and sex from the
    batch manifest instead.
    """

    age_months: int | None = None
    sex: str | None = None  # "F" or "M"
    body_part: str | None = None
    modality: str | None = None
    patient_id: str | None = None
    study_date: datetime.date | None = None
    #: Isotropic detector pixel spacing in mm (PixelSpacing, else ImagerPixelSpacing);
    #: None when absent or when rows and columns differ, so no length is ever guessed.
    pixel_spacing_mm: float | None = None


@dataclass(frozen=True)
class DecodedImage:
    """One decoded radiograph.

    ``pixels`` is 2-D float32 in [0, 1], MONOCHROME2 (bone bright), full resolution.
    ``was_color`` says the file stored colour channels; ``colorfulness`` (Hasler and
    Suesstrunk, on a 0-255 scale; about 0 for a gray image, above 30 for an ordinary
    photograph) says whether those channels actually held colour.
    """

    pixels: np.ndarray
    source_format: str  # "png" | "jpeg" | "webp" | "tiff" | "dicom"
    bit_depth: int
    was_color: bool
    colorfulness: float
    metadata: ImageMetadata

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def check_pixel_limit(width: int, height: int, max_pixels: int) -> None:
    """Refuse an image by its header size, before any pixel is decoded."""
    if width <= 0 or height <= 0:
        raise DecodeError(f"The file says the image is {width} x {height} pixels, which is not a valid size.")
    if width * height > max_pixels:
        raise DecodeError(
            f"The image is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"images above {max_pixels / 1e6:.0f} megapixels are refused to protect the server. "
            "Export the radiograph at its normal resolution."
        )
