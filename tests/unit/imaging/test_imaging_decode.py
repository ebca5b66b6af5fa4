"""Decoding PNG/JPEG/WebP/TIFF/DICOM into gray [0, 1] pixels, on synthetic and real files."""

from __future__ import annotations

import datetime
import io

import numpy as np
import pydicom
import pytest

from screening.imaging import DecodeError, decode_image
from screening.imaging.dicom import age_from_dates, parse_age_string

DICOM_DIR = "dicom-cr-radiographs/"


# --- PNG / JPEG -------------------------------------------------------------------


def test_8bit_png_keeps_every_gray_level(synth):
    array = synth.phantom()
    decoded = decode_image(synth.png(array))
    assert decoded.source_format == "png" and decoded.bit_depth == 8
    assert decoded.pixels.dtype == np.float32 and decoded.pixels.shape == array.shape
    np.testing.assert_allclose(decoded.pixels, array / 255.0, atol=1e-6)
    assert not decoded.was_color and decoded.colorfulness == 0.0


def test_16bit_png_keeps_16bit_precision(synth):
    array = synth.phantom(maximum=65535, dtype=np.uint16)
    array[0, :2] = [1000, 1001]
    decoded = decode_image(synth.png(array))
    assert decoded.bit_depth == 16
    np.testing.assert_allclose(decoded.pixels, array / 65535.0, atol=1e-6)
    assert decoded.pixels[0, 1] > decoded.pixels[0, 0]


def test_gray_jpeg_is_close_to_the_original(synth):
    array = synth.phantom()
    decoded = decode_image(synth.jpeg(array))
    assert decoded.source_format == "jpeg" and not decoded.was_color
    assert np.abs(decoded.pixels - array / 255.0).mean() < 0.02


def test_rgb_file_of_a_gray_radiograph_is_gray_with_no_colour(synth):
    gray = synth.phantom()
    decoded = decode_image(synth.jpeg(np.stack([gray] * 3, axis=2)))
    assert decoded.was_color
    assert decoded.colorfulness < 3
    assert np.abs(decoded.pixels - gray / 255.0).mean() < 0.02


def test_colour_photograph_scores_high_colourfulness(synth):
    rows, cols = np.mgrid[0:300, 0:300]
    photo = np.stack([rows * 255 // 300, 255 - cols * 255 // 300, (rows + cols) * 255 // 600], axis=2).astype(np.uint8)
    decoded = decode_image(synth.png(photo))
    assert decoded.was_color and decoded.colorfulness > 30
    assert decoded.pixels.ndim == 2


def test_format_comes_from_magic_bytes_not_the_filename(synth):
    decoded = decode_image(synth.png(synth.phantom()), filename="IM0001.dcm")
    assert decoded.source_format == "png"


def test_header_size_over_the_limit_is_refused_before_decoding(synth):
    with pytest.raises(DecodeError, match="megapixels"):
        decode_image(synth.png(synth.phantom()), max_pixels=10_000)


# --- WebP / TIFF (screen captures, web downloads, scanner and viewer exports) ------------


def test_lossless_webp_keeps_every_gray_level(synth):
    array = synth.phantom()
    decoded = decode_image(synth.webp(array), filename="hand.webp")
    assert decoded.source_format == "webp" and decoded.bit_depth == 8
    # WebP has no gray mode: Pillow gives RGB, whose channels are equal here.
    assert decoded.was_color and decoded.colorfulness == 0.0
    np.testing.assert_allclose(decoded.pixels, array / 255.0, atol=1e-6)


def test_lossy_webp_is_close_to_the_original_and_counts_as_gray(synth):
    array = synth.phantom()
    decoded = decode_image(synth.webp(array, lossless=False, quality=80))
    assert decoded.source_format == "webp" and decoded.pixels.shape == array.shape
    assert np.abs(decoded.pixels - array / 255.0).mean() < 0.02
    assert decoded.colorfulness < 3  # chroma noise of a gray picture, far from a photograph's 30+


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_adobe_deflate", "packbits"])
def test_8bit_tiff_keeps_every_gray_level(synth, compression):
    array = synth.phantom()
    decoded = decode_image(synth.tiff(array, compression=compression), filename="hand.tif")
    assert decoded.source_format == "tiff" and decoded.bit_depth == 8 and not decoded.was_color
    np.testing.assert_allclose(decoded.pixels, array / 255.0, atol=1e-6)


@pytest.mark.parametrize("compression", [None, "tiff_lzw"])
def test_16bit_tiff_keeps_16bit_precision(synth, compression):
    array = synth.phantom(maximum=65535, dtype=np.uint16)
    array[0, :2] = [1000, 1001]
    decoded = decode_image(synth.tiff(array, compression=compression))
    assert decoded.source_format == "tiff" and decoded.bit_depth == 16
    np.testing.assert_allclose(decoded.pixels, array / 65535.0, atol=1e-6)
    assert decoded.pixels[0, 1] > decoded.pixels[0, 0]


def test_16bit_min_is_white_tiff_is_inverted_so_bone_is_bright(synth):
    """PhotometricInterpretation 0: stored 0 is white. Pillow inverts 8-bit files itself, not 16-bit ones."""
    array = synth.phantom(maximum=65535, dtype=np.uint16)
    decoded = decode_image(synth.tiff(65535 - array, t262=0))
    np.testing.assert_allclose(decoded.pixels, array / 65535.0, atol=1e-6)
    eight = synth.phantom()
    np.testing.assert_allclose(decode_image(synth.tiff(eight, t262=0)).pixels, eight / 255.0, atol=1e-6)


def test_rgb_tiff_of_a_gray_radiograph_is_gray_with_no_colour(synth):
    gray = synth.phantom()
    decoded = decode_image(synth.tiff(np.stack([gray] * 3, axis=2), compression="tiff_lzw"))
    assert decoded.was_color and decoded.colorfulness == 0.0
    np.testing.assert_allclose(decoded.pixels, gray / 255.0, atol=1e-2)


def test_tiff_orientation_tag_is_applied(synth):
    array = synth.phantom(height=300, width=260)
    decoded = decode_image(synth.tiff(array, t274=6))  # 6: rotate 90 degrees clockwise to display
    assert decoded.pixels.shape == (260, 300)
    np.testing.assert_allclose(decoded.pixels, np.rot90(array, -1) / 255.0, atol=1e-6)


def test_multipage_tiff_decodes_the_first_page(synth):
    first = synth.phantom()
    decoded = decode_image(synth.tiff([first, 255 - first]))
    np.testing.assert_allclose(decoded.pixels, first / 255.0, atol=1e-6)


def test_floating_point_tiff_is_refused_with_a_reason(synth):
    with pytest.raises(DecodeError, match="floating-point"):
        decode_image(synth.tiff(synth.phantom().astype(np.float32)))


def test_tiff_and_webp_headers_over_the_pixel_limit_are_refused_before_decoding(synth):
    for data in (synth.tiff(synth.phantom()), synth.webp(synth.phantom())):
        with pytest.raises(DecodeError, match="megapixels"):
            decode_image(data, max_pixels=10_000)


# --- DICOM, synthetic -------------------------------------------------------------


def test_dicom_rescale_and_window_are_applied(synth):
    stored = np.array([[0, 100], [200, 300]], dtype=np.uint16).repeat(2, 0).repeat(2, 1)
    data = synth.dicom(stored, RescaleSlope=2, RescaleIntercept=-100, WindowCenter=250, WindowWidth=200)
    pixels = decode_image(data).pixels
    # values after rescale: -100, 100, 300, 500; window 150..350 -> 0, 0, 0.75, 1
    np.testing.assert_allclose(pixels[::2, ::2], [[0.0, 0.0], [0.75, 1.0]], atol=0.01)


def test_dicom_without_window_uses_the_data_range(synth):
    stored = np.array([[100, 200], [300, 500]], dtype=np.uint16)
    np.testing.assert_allclose(decode_image(synth.dicom(stored)).pixels, [[0, 0.25], [0.5, 1.0]], atol=1e-6)


def test_monochrome1_is_inverted_so_bone_is_bright(synth):
    # In MONOCHROME1 low stored values are bright: the "bone" here is stored low.
    stored = np.full((8, 8), 4000, dtype=np.uint16)
    stored[2:6, 2:6] = 500
    pixels = decode_image(synth.dicom(stored, photometric="MONOCHROME1")).pixels
    assert pixels[3, 3] == pytest.approx(1.0) and pixels[0, 0] == pytest.approx(0.0)


def test_multiframe_dicom_decodes_the_first_frame(synth):
    frames = np.stack([np.full((4, 4), 10, np.uint16), np.full((4, 4), 20, np.uint16)])
    frames[0, 0, 0] = 0
    frames[1, 0, 0] = 4095
    pixels = decode_image(synth.dicom(frames)).pixels
    assert pixels.shape == (4, 4) and pixels[0, 0] == 0.0 and pixels[1, 1] == 1.0


def test_dicom_metadata_from_tags(synth):
    data = synth.dicom(
        np.zeros((4, 4), np.uint16),
        PatientSex="F",
        PatientAge="065Y",
        BodyPartExamined="HAND",
        StudyDate="20240105",
    )
    metadata = decode_image(data).metadata
    assert metadata.sex == "F" and metadata.age_months == 780 and metadata.body_part == "HAND"
    assert metadata.modality == "CR" and metadata.patient_id == "MRN-0042"
    assert metadata.study_date == datetime.date(2024, 1, 5)


def test_dicom_age_from_birth_and_study_dates(synth):
    data = synth.dicom(np.zeros((4, 4), np.uint16), PatientBirthDate="19580620", StudyDate="20240619", PatientSex="O")
    metadata = decode_image(data).metadata
    assert metadata.age_months == 65 * 12 + 11
    assert metadata.sex is None


@pytest.mark.parametrize(
    ("text", "months"),
    [("065Y", 780), ("006M", 6), ("012W", 2), ("003D", 0), ("65", 780), ("", None), ("abc", None), (None, None)],
)
def test_age_string_parsing(text, months):
    assert parse_age_string(text) == months


def test_age_from_dates_counts_completed_months():
    assert age_from_dates(datetime.date(2000, 5, 31), datetime.date(2001, 5, 30)) == 11
    assert age_from_dates(datetime.date(2000, 5, 1), datetime.date(1999, 1, 1)) is None


# --- real samples -----------------------------------------------------------------


def test_real_16bit_grazpedwri_png(sample_bytes):
    decoded = decode_image(sample_bytes("grazpedwri-dx-osteopenia-wrist/images/1068_1253423501_03_WRI-L2_F010.png"))
    assert decoded.bit_depth == 16 and decoded.pixels.shape == (614, 444)
    assert decoded.pixels.min() == 0.0 and decoded.pixels.max() == 1.0
    # a 16-bit file has far more than 256 distinct levels
    assert np.unique(decoded.pixels).size > 1000


@pytest.mark.parametrize(
    ("uncompressed", "compressed"), [("RG2_UNC.dcm", "RG2_RLE.dcm"), ("RG3_UNC.dcm", "RG3_J2KR.dcm")]
)
def test_compressed_dicom_matches_uncompressed(sample_bytes, uncompressed, compressed):
    plain = decode_image(sample_bytes(DICOM_DIR + uncompressed)).pixels
    packed = decode_image(sample_bytes(DICOM_DIR + compressed)).pixels
    assert plain.shape == packed.shape
    assert np.abs(plain - packed).max() < 1e-3


def test_monochrome1_jpeg_dicom_is_inverted(sample_bytes):
    data = sample_bytes(DICOM_DIR + "orthanc_Issue44_Monochrome1-Jpeg.dcm")
    stored = pydicom.dcmread(io.BytesIO(data)).pixel_array.astype(np.float64)
    pixels = decode_image(data).pixels
    assert np.corrcoef(stored[::8, ::8].ravel(), pixels[::8, ::8].ravel())[0, 1] < -0.99
    height, width = pixels.shape
    spine = pixels[int(height * 0.35) : int(height * 0.55), int(width * 0.47) : int(width * 0.53)].mean()
    lung = pixels[int(height * 0.35) : int(height * 0.55), int(width * 0.25) : int(width * 0.35)].mean()
    assert spine > lung + 0.1


def test_monochrome1_tibia_bone_is_brighter_than_air(sample_bytes):
    pixels = decode_image(sample_bytes(DICOM_DIR + "RG3_J2KR.dcm")).pixels
    height, width = pixels.shape
    middle = slice(int(height * 0.3), int(height * 0.5))
    shaft = pixels[middle, int(width * 0.47) : int(width * 0.53)].mean()
    air = pixels[middle, int(width * 0.33) : int(width * 0.38)].mean()
    assert shaft > air + 0.3


def test_real_dicom_metadata(sample_bytes):
    metadata = decode_image(sample_bytes(DICOM_DIR + "RG3_UNC.dcm")).metadata
    assert metadata.age_months == 25 * 12 + 4  # born 1979-04-08, studied 2004-08-26
    assert (metadata.sex, metadata.body_part, metadata.modality) == ("F", "EXTREMITY", "CR")
    assert metadata.study_date == datetime.date(2004, 8, 26)
    empty = decode_image(sample_bytes(DICOM_DIR + "orthanc_Issue44_Monochrome1-Jpeg.dcm")).metadata
    assert empty.sex is None and empty.age_months is None and empty.body_part is None


def test_jpeg2000_lossy_chest_decodes(sample_bytes):
    decoded = decode_image(sample_bytes(DICOM_DIR + "RG1_J2KI.dcm"))
    assert decoded.pixels.shape == (1955, 1841) and decoded.bit_depth == 15
    assert 0.0 <= decoded.pixels.min() < decoded.pixels.max() <= 1.0


def test_dicom_whose_preamble_is_a_tiff_header_is_read_as_dicom(synth):
    """PS3.10 allows a TIFF header in the 128-byte preamble (dual-format files); the real NEMA RG2 has one."""
    data = synth.dicom(synth.phantom(dtype=np.uint16, maximum=4095), BodyPartExamined="HAND")
    dual = b"II*\x00" + data[4:]
    decoded = decode_image(dual)
    assert decoded.source_format == "dicom" and decoded.metadata.body_part == "HAND"
    np.testing.assert_array_equal(decoded.pixels, decode_image(data).pixels)


def test_dicom_without_preamble_is_recognised(synth):
    full = synth.dicom(synth.phantom(dtype=np.uint16, maximum=4095))
    ds = pydicom.dcmread(io.BytesIO(full))
    ds.preamble = None
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=True, little_endian=True)
    bare = buffer.getvalue()
    assert bare[128:132] != b"DICM"
    np.testing.assert_array_equal(decode_image(bare).pixels, decode_image(full).pixels)


def test_colour_dicom_secondary_capture_is_gray_with_colour_recorded():
    ds = pydicom.dataset.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPClassUID = pydicom.uid.SecondaryCaptureImageStorage
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    rows, cols = np.mgrid[0:64, 0:64]
    ds.set_pixel_data(np.stack([rows * 4, 255 - cols * 4, rows * 2], axis=2).astype(np.uint8), "RGB", 8)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    decoded = decode_image(buffer.getvalue())
    assert decoded.pixels.shape == (64, 64) and decoded.was_color and decoded.colorfulness > 30
