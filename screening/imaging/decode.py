"""One entry point that turns uploaded bytes into a :class:`DecodedImage`.

The format comes from the file's magic bytes, never its name: hospital exports call
DICOM files ``IM0001`` or ``.jpg`` and PNGs ``.dcm`` often enough that trusting the
extension would send files to the wrong decoder and give confusing errors.

Read: PNG, JPEG, WebP and TIFF (through Pillow, :mod:`.raster`) and DICOM (through
pydicom, :mod:`.dicom`). :data:`READABLE_FORMATS` is the one list of them, for messages
and documentation; GIF and BMP are refused with a reason (screen captures, not exports
of a radiograph).
"""

from __future__ import annotations

from .decoded import DEFAULT_MAX_PIXELS, DecodedImage, DecodeError, ImageMetadata
from .dicom import decode_dicom
from .raster import decode_raster

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "READABLE_FORMATS",
    "DecodeError",
    "DecodedImage",
    "ImageMetadata",
    "decode_image",
    "sniff_format",
]

#: The formats the decoder reads, as named to users ("is not a PNG, JPEG, WebP, TIFF or DICOM image").
READABLE_FORMATS = ("PNG", "JPEG", "WebP", "TIFF", "DICOM")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
# Classic TIFF (little / big endian) and BigTIFF.
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_DICOM_MAGIC_OFFSET = 128
# A DICOM file without its 128-byte preamble starts with a group 0002 or 0008 tag.
_DICOM_BARE_STARTS = (b"\x02\x00", b"\x08\x00")


def sniff_format(data: bytes) -> str | None:
    """``"png"``, ``"jpeg"``, ``"webp"``, ``"tiff"``, ``"dicom"`` (with preamble), ``"dicom-bare"`` or None."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    # Before TIFF: a DICOM preamble may itself be a TIFF header (dual-format files, PS3.10 7.5).
    if data[_DICOM_MAGIC_OFFSET : _DICOM_MAGIC_OFFSET + 4] == b"DICM":
        return "dicom"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(_TIFF_MAGICS):
        return "tiff"
    if data[:2] in _DICOM_BARE_STARTS and len(data) > 8:
        return "dicom-bare"
    return None


def decode_image(data: bytes, filename: str | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode PNG, JPEG, WebP, TIFF or DICOM bytes into gray pixels in [0, 1] plus file metadata.

    ``filename`` is used only to word error messages. Raises :class:`DecodeError`
    with a clinician-readable reason for anything that is not a readable radiograph,
    including images whose header claims more than ``max_pixels`` pixels.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError("No file content was received.")
    data = bytes(data)
    if not data:
        raise DecodeError(f"{_name(filename)} is empty (0 bytes).")
    kind = sniff_format(data)
    if kind in ("png", "jpeg", "webp", "tiff"):
        return decode_raster(data, kind, max_pixels)
    if kind in ("dicom", "dicom-bare"):
        return decode_dicom(data, has_preamble=kind == "dicom", max_pixels=max_pixels)
    raise DecodeError(f"{_name(filename)} is not a {_format_list()} image{_guess(data)}.")


def _format_list() -> str:
    return ", ".join(READABLE_FORMATS[:-1]) + " or " + READABLE_FORMATS[-1]


def _name(filename: str | None) -> str:
    return f"The file {filename!r}" if filename else "The file"


def _guess(data: bytes) -> str:
    """A hint about what the file is instead, for the most common wrong uploads."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return " (it is a PDF document)"
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        return " (it is a compressed archive)"
    if head.startswith(b"GIF8") or head.startswith(b"BM"):
        return " (it is a GIF or BMP picture, which is not supported; export PNG or DICOM)"
    sample = data[:4096]
    printable = sum(1 for byte in sample if 32 <= byte < 127 or byte in b"\t\r\n")
    return " (it looks like a text file)" if printable >= 0.95 * len(sample) else ""
