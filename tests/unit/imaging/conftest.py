"""Builders for small synthetic radiographs in every format the decoder accepts (PNG, JPEG, WebP, TIFF, DICOM)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ComputedRadiographyImageStorage, ExplicitVRLittleEndian, generate_uid


def phantom(height: int = 320, width: int = 280, maximum: int = 255, dtype: type = np.uint8) -> np.ndarray:
    """A dark background with a bright 'bone' ellipse and mild noise: radiograph-like statistics."""
    rows, cols = np.mgrid[0:height, 0:width]
    ellipse = ((rows - height / 2) / (height * 0.4)) ** 2 + ((cols - width / 2) / (width * 0.2)) ** 2 <= 1
    rng = np.random.default_rng(0)
    image = 0.15 + 0.35 * (rows / height) + 0.4 * ellipse + rng.normal(0, 0.02, (height, width))
    return np.clip(image * maximum, 0, maximum).astype(dtype)


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def webp_bytes(array: np.ndarray, lossless: bool = True, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="WEBP", lossless=lossless, quality=quality)
    return buffer.getvalue()


def tiff_bytes(array: np.ndarray | list[np.ndarray], compression: str | None = None, **tags: int) -> bytes:
    """A TIFF of ``array`` (a list: one page each); ``tags`` are raw TIFF tags by number, e.g. ``t274=6``."""
    pages = [Image.fromarray(page) for page in (array if isinstance(array, list) else [array])]
    info = {int(key.lstrip("t")): value for key, value in tags.items()}
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", compression=compression, tiffinfo=info, save_all=True,
                  append_images=pages[1:])
    return buffer.getvalue()


def dicom_bytes(
    stored: np.ndarray | None,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    **tags: object,
) -> bytes:
    """An uncompressed CR DICOM; ``stored`` (uint16, (H, W) or (frames, H, W)) or None for no pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ComputedRadiographyImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = ComputedRadiographyImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CR"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-0042"
    if stored is not None:
        frames = stored.shape[0] if stored.ndim == 3 else 1
        ds.Rows, ds.Columns = stored.shape[-2:]
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = 16
        ds.BitsStored = bits_stored
        ds.HighBit = bits_stored - 1
        ds.PixelRepresentation = 0
        ds.PixelData = stored.astype("<u2").tobytes()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture
def sample_bytes(samples_dir: Path) -> Callable[[str], bytes]:
    """Read one real sample file by its path relative to the samples folder."""
    return lambda relative: (samples_dir / relative).read_bytes()


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    """The builders above, for tests: ``synth.phantom()``, ``synth.png(array)``, ..."""
    return SimpleNamespace(phantom=phantom, png=png_bytes, jpeg=jpeg_bytes, webp=webp_bytes, tiff=tiff_bytes,
                           dicom=dicom_bytes)
