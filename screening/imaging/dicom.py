"""DICOM radiographs through pydicom: pixels as a radiologist would see them, plus tags.

Order of operations follows the DICOM grayscale pipeline (PS3.4 N.2): stored values,
Modality LUT (rescale slope/intercept), VOI LUT or window (first one when several),
then MONOCHROME1 is inverted so bone is always bright. Compressed transfer syntaxes
are decoded by whichever pydicom plugin is installed: Pillow covers JPEG baseline and
JPEG 2000, and pydicom's own numpy decoder covers RLE.
"""

from __future__ import annotations

import datetime
import io
import re

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut, get_decoder
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .colour import colorfulness, rgb_to_gray
from .decoded import DecodedImage, DecodeError, ImageMetadata, check_pixel_limit, plausible_pixel_spacing

_DAYS_PER_MONTH = 365.25 / 12
_AGE_UNIT_MONTHS = {"Y": 12.0, "M": 1.0, "W": 7 / _DAYS_PER_MONTH, "D": 1 / _DAYS_PER_MONTH}
_AGE_PATTERN = re.compile(r"^\s*(\d{1,3})\s*([YMWD]?)\s*$", re.IGNORECASE)


def read_dataset(data: bytes, has_preamble: bool) -> Dataset:
    """Parse a DICOM file; ``force`` only for preamble-less files sniffed by their first tag.

    A bare dataset has no file meta, so its transfer syntax is recorded from the
    encoding pydicom detected; without it the pixels could not be decoded.
    """
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=not has_preamble)
    except Exception as exc:
        raise DecodeError("The DICOM file is damaged: its header cannot be read.") from exc
    if "TransferSyntaxUID" not in ds.file_meta:
        implicit_vr, little_endian = ds.original_encoding
        if implicit_vr:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        else:
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian if little_endian else ExplicitVRBigEndian
    return ds


def decode_dicom(data: bytes, has_preamble: bool, max_pixels: int) -> DecodedImage:
    """Decode the first frame of a DICOM image and the patient/study tags."""
    ds = read_dataset(data, has_preamble)
    if "PixelData" not in ds:
        raise DecodeError(
            "The DICOM file contains no image (no pixel data); it may be a report, "
            "a worklist entry or a header-only export."
        )
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    check_pixel_limit(columns, rows, max_pixels)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric == "PALETTE COLOR":
        raise DecodeError("The DICOM image uses a colour palette; plain radiographs are grayscale.")
    stored = _first_frame(ds)
    metadata = read_metadata(ds)
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    if stored.ndim == 3:
        full_scale = float(2**bits - 1)
        return DecodedImage(
            pixels=rgb_to_gray(stored, full_scale),
            source_format="dicom",
            bit_depth=bits,
            was_color=True,
            colorfulness=colorfulness(stored, full_scale),
            metadata=metadata,
        )
    pixels = _grayscale_display(stored, ds)
    if photometric == "MONOCHROME1":
        pixels = 1.0 - pixels
    return DecodedImage(
        pixels=np.ascontiguousarray(pixels, dtype=np.float32),
        source_format="dicom",
        bit_depth=bits,
        was_color=False,
        colorfulness=0.0,
        metadata=metadata,
    )


def _first_frame(ds: Dataset) -> np.ndarray:
    """Decode only frame 0, so a 200-frame fluoroscopy run costs one frame."""
    try:
        ds.pixel_array_options(index=0, as_rgb=True)
        array = ds.pixel_array
    except Exception as exc:
        raise DecodeError(_pixel_failure_reason(ds)) from exc
    if array.ndim not in (2, 3) or array.size == 0:
        raise DecodeError("The DICOM pixel data does not form a single 2-D image.")
    return array


def _pixel_failure_reason(ds: Dataset) -> str:
    """Tell an unsupported compression apart from damaged data: the fixes differ."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is not None and syntax.is_compressed:
        try:
            available = get_decoder(syntax).is_available
        except NotImplementedError:
            available = False
        if not available:
            return (
                f"The DICOM image uses {syntax.name} compression, which this server cannot decode. "
                "Export it uncompressed, or as JPEG baseline or JPEG 2000."
            )
    return "The DICOM pixel data is damaged or incomplete (for example cut off during upload)."


def _grayscale_display(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored values -> Modality LUT -> VOI (window) -> float in [0, 1].

    With a window the output spans the window's range; without one the data's own
    range is used, which is what DICOM viewers show by default.
    """
    values = apply_modality_lut(stored, ds)
    has_voi = "VOILUTSequence" in ds or "WindowCenter" in ds
    if has_voi:
        try:
            windowed = apply_voi_lut(values, ds, index=0, prefer_lut=True)
            low, high = _voi_output_range(ds)
            return _scale(windowed, low, high)
        except (ValueError, TypeError, IndexError, AttributeError, KeyError):
            pass  # A malformed window (e.g. width 0) must not cost the image: fall back to the data range.
    values = np.asarray(values, dtype=np.float64)
    return _scale(values, float(values.min()), float(values.max()))


def _voi_output_range(ds: Dataset) -> tuple[float, float]:
    """The range pydicom maps a VOI LUT or window onto (PS3.3 C.11.2.1.2)."""
    if "VOILUTSequence" in ds:
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        return 0.0, float(2**bits - 1)
    if ds.get("ModalityLUTSequence"):
        bits = int(ds.ModalityLUTSequence[0].LUTDescriptor[2])
        low, high = 0.0, float(2**bits - 1)
    elif int(ds.get("PixelRepresentation", 0)) == 0:
        low, high = 0.0, float(2 ** int(ds.BitsStored) - 1)
    else:
        low, high = float(-(2 ** (int(ds.BitsStored) - 1))), float(2 ** (int(ds.BitsStored) - 1) - 1)
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is not None and intercept is not None and not ds.get("ModalityLUTSequence"):
        low, high = low * float(slope) + float(intercept), high * float(slope) + float(intercept)
    return min(low, high), max(low, high)


def _scale(values: np.ndarray, low: float, high: float) -> np.ndarray:
    if not high > low:
        return np.zeros(values.shape, dtype=np.float32)
    scaled = (np.asarray(values, dtype=np.float32) - np.float32(low)) / np.float32(high - low)
    return np.clip(scaled, 0.0, 1.0)


def read_metadata(ds: Dataset) -> ImageMetadata:
    """Age, sex, body part, modality, patient id and study date as the tags give them."""
    study_date = parse_dicom_date(ds.get("StudyDate")) or parse_dicom_date(ds.get("AcquisitionDate"))
    age = parse_age_string(ds.get("PatientAge"))
    if age is None:
        age = age_from_dates(parse_dicom_date(ds.get("PatientBirthDate")), study_date)
    sex = str(ds.get("PatientSex") or "").strip().upper()
    return ImageMetadata(
        age_months=age,
        sex=sex if sex in {"F", "M"} else None,
        body_part=_upper(_text(ds.get("BodyPartExamined"))),
        modality=_upper(_text(ds.get("Modality"))),
        patient_id=_text(ds.get("PatientID")),
        study_date=study_date,
        pixel_spacing_mm=read_pixel_spacing(ds),
    )


def read_pixel_spacing(ds: Dataset) -> float | None:
    """Pixel spacing in mm from PixelSpacing (0028,0030) or ImagerPixelSpacing (0018,1164).

    PixelSpacing is preferred: when present it is calibrated to the patient plane;
    ImagerPixelSpacing is at the detector. Only isotropic spacings (rows and columns
    within 1 %) in a plausible radiographic range are returned.
    """
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        try:
            rows, cols = (float(v) for v in value)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            continue
        if plausible_pixel_spacing(rows) and abs(rows - cols) <= 0.01 * rows:
            return (rows + cols) / 2
    return None


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _upper(text: str | None) -> str | None:
    return text.upper() if text else None


def parse_age_string(value: object) -> int | None:
    """DICOM Age String ("065Y", "006M", "012W", "003D") in whole months; None if absent or invalid."""
    match = _AGE_PATTERN.match(str(value or ""))
    if not match:
        return None
    number, unit = int(match.group(1)), (match.group(2) or "Y").upper()
    return int(number * _AGE_UNIT_MONTHS[unit])


def parse_dicom_date(value: object) -> datetime.date | None:
    """DICOM DA ("YYYYMMDD", or the old "YYYY.MM.DD") as a date; None if absent or invalid."""
    if isinstance(value, datetime.date):
        return value
    digits = re.sub(r"[^0-9]", "", str(value or ""))
    if len(digits) != 8:
        return None
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def age_from_dates(birth: datetime.date | None, on: datetime.date | None) -> int | None:
    """Completed months of age on a date; None when either date is missing or they disagree."""
    if birth is None or on is None or on < birth:
        return None
    return (on.year - birth.year) * 12 + (on.month - birth.month) - (1 if on.day < birth.day else 0)
