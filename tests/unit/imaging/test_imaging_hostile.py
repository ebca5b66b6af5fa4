"""Hostile and broken uploads: each is rejected with a reason, and nothing raises."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import MPEG2MPML

from screening.imaging import DecodeError, decode_image, inspect_file


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def tiff_with(data: bytes, tag: int, value: int) -> bytes:
    """A little-endian TIFF with one SHORT/LONG tag of its first directory set to ``value``."""
    out = bytearray(data)
    offset = struct.unpack("<I", out[4:8])[0]
    for index in range(struct.unpack("<H", out[offset : offset + 2])[0]):
        entry = offset + 2 + 12 * index
        number, kind = struct.unpack("<HH", out[entry : entry + 4])
        if number == tag:
            out[entry + 8 : entry + 12] = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
    return bytes(out)


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming a huge size, with a tiny compressed body."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


@pytest.fixture
def hostile(synth) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the rejection reason must contain)."""
    png = synth.png(synth.phantom())
    jpeg = synth.jpeg(synth.phantom())
    webp = synth.webp(synth.phantom(), lossless=False)
    tiff = synth.tiff(synth.phantom(), compression="tiff_lzw")
    rng = np.random.default_rng(1)
    return {
        "empty": (b"", "empty"),
        "random bytes": (rng.bytes(5000), "not a PNG, JPEG, WebP, TIFF or DICOM"),
        "truncated WebP": (webp[: len(webp) // 2], "damaged"),
        "WebP header only": (webp[:20], "damaged"),
        "truncated TIFF": (tiff[: len(tiff) // 2], "damaged"),
        "TIFF header only": (tiff[:6], "TIFF file cannot be read"),
        "TIFF claiming 60000x60000": (tiff_with(tiff_with(tiff, 256, 60000), 257, 60000), "too large"),
        "TIFF claiming 9000x9000": (tiff_with(tiff_with(tiff, 256, 9000), 257, 9000), "megapixels"),
        "TIFF in JPEG 2000": (tiff_with(tiff, 259, 34712), "compression this server cannot decode"),
        "GIF": (b"GIF89a" + rng.bytes(500), "GIF or BMP"),
        "truncated PNG": (png[: len(png) // 2], "damaged"),
        "truncated JPEG": (jpeg[: len(jpeg) // 2], "damaged"),
        "PNG header only": (png[:40], "damaged"),
        "PNG claiming 100000x100000": (png_claiming(100_000, 100_000), "too large"),
        "PNG claiming 9000x9000": (png_claiming(9000, 9000), "megapixels"),
        "DICOM without pixel data": (synth.dicom(None), "no pixel data"),
        "DICOM claiming 60000x60000": (
            synth.dicom(None, Rows=60000, Columns=60000, PixelData=b"\x00" * 16, BitsAllocated=16),
            "megapixels",
        ),
        "DICOM with short pixel data": (
            synth.dicom(None, Rows=512, Columns=512, BitsAllocated=16, BitsStored=12, HighBit=11,
                        PixelRepresentation=0, SamplesPerPixel=1,
                        PhotometricInterpretation="MONOCHROME2", PixelData=b"\x00" * 64),
            "damaged",
        ),  # fmt: skip
        "DICOM cut inside its header": (synth.dicom(synth.phantom(dtype=np.uint16))[:200], "DICOM"),
        "DICOM cut inside its pixels": (synth.dicom(synth.phantom(dtype=np.uint16))[:-1000], "incomplete"),
        "text file": (b"patient_id,age\n123,65\n" * 20, "text file"),
        "PDF": (b"%PDF-1.7\n" + rng.bytes(500), "PDF"),
        "zip archive": (b"PK\x03\x04" + rng.bytes(500), "archive"),
        "tiny PNG": (synth.png(np.full((20, 20), 128, np.uint8)), "pixels on the shorter side"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "empty",
        "random bytes",
        "truncated WebP",
        "WebP header only",
        "truncated TIFF",
        "TIFF header only",
        "TIFF claiming 60000x60000",
        "TIFF claiming 9000x9000",
        "TIFF in JPEG 2000",
        "GIF",
        "truncated PNG",
        "truncated JPEG",
        "PNG header only",
        "PNG claiming 100000x100000",
        "PNG claiming 9000x9000",
        "DICOM without pixel data",
        "DICOM claiming 60000x60000",
        "DICOM with short pixel data",
        "DICOM cut inside its header",
        "DICOM cut inside its pixels",
        "text file",
        "PDF",
        "zip archive",
        "tiny PNG",
    ],
)
def test_hostile_input_is_rejected_with_a_reason(hostile, name):
    data, expected_words = hostile[name]
    _decoded, verdict = inspect_file(data, filename=f"{name}.bin")
    assert verdict.status == "rejected"
    assert expected_words in verdict.reason


@pytest.mark.parametrize("not_bytes", [None, "a string", 42])
def test_non_bytes_input_is_rejected(not_bytes):
    decoded, verdict = inspect_file(not_bytes)
    assert decoded is None and verdict.status == "rejected" and verdict.reason


def test_decompression_bomb_surfaces_only_as_decode_error():
    with pytest.raises(DecodeError) as caught:
        decode_image(png_claiming(100_000, 100_000))
    assert type(caught.value) is DecodeError


def test_pixel_limit_is_configurable(synth):
    data = synth.png(synth.phantom(height=300, width=300))
    assert inspect_file(data, max_pixels=50_000)[1].status == "rejected"
    assert inspect_file(data, max_pixels=100_000)[1].status != "rejected"


def test_unsupported_compression_is_named(synth):
    data = synth.dicom(np.zeros((4, 4), np.uint16))
    ds = pydicom.dcmread(io.BytesIO(data))
    # No plugin decodes MPEG-2 video here (JPEG-LS now has one: pyjpegls, via highdicom).
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3 not really MPEG-2"])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    decoded, verdict = inspect_file(buffer.getvalue())
    assert decoded is None and verdict.status == "rejected"
    assert "MPEG2" in verdict.reason and "cannot decode" in verdict.reason


def test_truncated_png_is_rejected_even_after_weasyprint_is_imported(hostile):
    """WeasyPrint switches Pillow to pad truncated images; report workers also ingest."""
    import weasyprint  # noqa: F401  (its import flips ImageFile.LOAD_TRUNCATED_IMAGES)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    data, _ = hostile["truncated PNG"]
    _, verdict = inspect_file(data, "cut.png")
    assert verdict.status == "rejected" and "damaged" in verdict.reason
