"""Archive members that must each be rejected with a reason, never stop a batch."""

from __future__ import annotations

import io
import zipfile

import cv2
import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def dicom_without_pixels() -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.PatientID, ds.PatientSex, ds.PatientAge, ds.Modality = "X-1", "F", "070Y", "DX"
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    image = (np.random.default_rng(0).random((400, 300)) * 255).astype(np.uint8)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    image = np.full((300, 300), 128, np.uint8)
    data = bytearray(cv2.imencode(".png", image)[1].tobytes())
    data[60:80] = b"\xff" * 20  # damage the compressed image data
    return bytes(data)


HOSTILE_REASONS = {
    "../../etc/evil.png": "unsafe path",
    "bomb.png": "compression ratio",
    "link.png": "symbolic link",
    "nested.zip": "nested archive",
    "corrupt.png": "",
    "truncated.jpg": "",
    "nopixels.dcm": "",
    "readme.txt": "",
}


def add_hostile_members(archive: zipfile.ZipFile) -> None:
    """Append every hostile case to an open zip (written by the caller)."""
    archive.writestr("../../etc/evil.png", b"\x89PNG not really")
    archive.writestr(zipfile.ZipInfo("bomb.png"), b"\x00" * (60 * 1024**2), compress_type=zipfile.ZIP_DEFLATED)
    link = zipfile.ZipInfo("link.png")
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    archive.writestr(link, "/etc/passwd")
    archive.writestr("nested.zip", b"PK\x05\x06" + b"\x00" * 18)
    archive.writestr("corrupt.png", corrupt_png())
    archive.writestr("truncated.jpg", truncated_jpeg())
    archive.writestr("nopixels.dcm", dicom_without_pixels())
    archive.writestr("readme.txt", b"hello, these are today's X-rays")


def dicom_with_tags(pixels: np.ndarray, **tags: str) -> bytes:
    """A DX DICOM of ``pixels`` (uint16) carrying the given string ``tags`` verbatim (NULs included)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.PatientSex, ds.PatientAge = "DX", "X-2", "F", "068Y"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
