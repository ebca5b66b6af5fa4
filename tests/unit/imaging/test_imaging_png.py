import zlib

import cv2
import numpy as np

from screening.imaging.png import encode_png, stripped_gray_png


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")


def _with_text(png: bytes, text: bytes) -> bytes:
    """Insert a tEXt chunk (as scanners do, e.g. with a patient name) after IHDR."""
    ihdr_end = 8 + 25
    return png[:ihdr_end] + _chunk(b"tEXt", text) + png[ihdr_end:]


def test_gray_png_keeps_pixels_and_loses_text_chunks():
    pixels = (np.random.default_rng(0).random((60, 40)) * 65535).astype(np.uint16)
    tagged = _with_text(encode_png(pixels), b"Comment\x00Patient: Jane Doe")
    stripped = stripped_gray_png(tagged, max_side=1024)
    assert stripped is not None and b"Jane Doe" not in stripped and b"tEXt" not in stripped
    assert np.array_equal(cv2.imdecode(np.frombuffer(stripped, np.uint8), cv2.IMREAD_UNCHANGED), pixels)


def test_colour_oversized_or_broken_pngs_are_not_reused():
    gray = np.zeros((50, 50), np.uint8)
    assert stripped_gray_png(encode_png(np.zeros((50, 50, 3), np.uint8)), 1024) is None
    assert stripped_gray_png(encode_png(gray), max_side=20) is None
    assert stripped_gray_png(encode_png(gray)[:-20], 1024) is None
    assert stripped_gray_png(b"not a png", 1024) is None
