"""The quality gate, on rule-by-rule synthetic images and on every real sample."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from screening.imaging import DecodedImage, ImageMetadata, QualityVerdict, assess_quality, inspect_file


def decoded(pixels: np.ndarray, colorfulness: float = 0.0, **metadata: object) -> DecodedImage:
    return DecodedImage(
        pixels=np.asarray(pixels, dtype=np.float32),
        source_format="dicom" if metadata else "png",
        bit_depth=8,
        was_color=colorfulness > 0,
        colorfulness=colorfulness,
        metadata=ImageMetadata(**metadata),
    )


@pytest.fixture
def good(synth) -> DecodedImage:
    return decoded(synth.phantom(320, 280) / 255.0)


def test_a_good_radiograph_is_accepted(good):
    assert assess_quality(good) == QualityVerdict("accepted", "")


def test_too_small(good):
    verdict = assess_quality(dataclasses.replace(good, pixels=good.pixels[:200, :150]))
    assert verdict.status == "rejected" and "150 x 200 pixels" in verdict.reason


def test_blank_image():
    verdict = assess_quality(decoded(np.full((300, 300), 0.4)))
    assert verdict.status == "rejected" and "blank" in verdict.reason


def test_saturated_image():
    pixels = np.zeros((300, 300))
    pixels[:, 150:] = 1.0
    pixels[:10, :10] = 0.5
    verdict = assess_quality(decoded(pixels))
    assert verdict.status == "rejected" and "saturated" in verdict.reason


@pytest.mark.parametrize(("spread", "status"), [(0.02, "rejected"), (0.10, "warning"), (0.40, "accepted")])
def test_contrast_thresholds(spread, status):
    ramp = np.tile(np.linspace(0.5 - spread / 2, 0.5 + spread / 2, 300), (300, 1))
    assert assess_quality(decoded(ramp)).status == status


@pytest.mark.parametrize(("score", "status"), [(2.0, "accepted"), (15.0, "warning"), (40.0, "rejected")])
def test_colour_photographs(good, score, status):
    verdict = assess_quality(dataclasses.replace(good, colorfulness=score))
    assert verdict.status == status
    if status == "rejected":
        assert "photograph" in verdict.reason


@pytest.mark.parametrize(
    ("modality", "status"),
    [("CR", "accepted"), ("DX", "accepted"), ("CT", "rejected"), ("US", "rejected"), ("OT", "rejected")],
)
def test_modality(good, modality, status):
    verdict = assess_quality(dataclasses.replace(good, metadata=ImageMetadata(modality=modality)))
    assert verdict.status == status
    if status == "rejected":
        assert f"Modality says {modality}" in verdict.reason


@pytest.mark.parametrize(
    ("body_part", "status"),
    [("HAND", "accepted"), ("WRIST", "accepted"), ("L HAND PA", "accepted"), ("FOREARM", "accepted"),
     ("CHEST", "rejected"), ("HIP", "rejected"), ("KNEE", "rejected"), ("EXTREMITY", "warning"), ("XYZ", "warning")],
)  # fmt: skip
def test_body_part(good, body_part, status):
    verdict = assess_quality(dataclasses.replace(good, metadata=ImageMetadata(body_part=body_part)))
    assert verdict.status == status


def test_rejection_reasons_are_combined_and_warnings_dropped(good):
    small = good.pixels[:100, :100]
    verdict = assess_quality(decoded(small, colorfulness=15.0, modality="CT"))
    assert verdict.status == "rejected"
    assert "CT" in verdict.reason and "100 x 100" in verdict.reason and "tinted" not in verdict.reason


def test_min_side_is_configurable(good):
    assert assess_quality(good, min_side=400).status == "rejected"


# --- real samples: the thresholds must let real radiographs through -----------------


def _verdicts(samples_dir, pattern):
    files = sorted(samples_dir.glob(pattern))
    assert files, pattern
    return {path.name: inspect_file(path.read_bytes(), path.name)[1] for path in files}


@pytest.mark.parametrize("pattern", ["rsna-boneage-hand/images/*.png", "grazpedwri-dx-osteopenia-wrist/images/*.png"])
def test_every_real_hand_and_wrist_is_screened(samples_dir, pattern):
    rejected = {name: v.reason for name, v in _verdicts(samples_dir, pattern).items() if v.status == "rejected"}
    assert rejected == {}


def test_real_knee_jpegs_are_accepted(samples_dir):
    verdicts = _verdicts(samples_dir, "knee-osteoporosis-roboflow/*/images/*.jpg")
    assert {v.status for v in verdicts.values()} == {"accepted"}


def test_real_dicoms_are_judged_by_their_tags(samples_dir):
    verdicts = _verdicts(samples_dir, "dicom-cr-radiographs/*.dcm")
    assert verdicts["RG1_J2KI.dcm"].status == "rejected" and "says CHEST" in verdicts["RG1_J2KI.dcm"].reason
    for hip in ("RG2_UNC.dcm", "RG2_RLE.dcm"):
        assert verdicts[hip].status == "rejected" and "says HIP" in verdicts[hip].reason
    for tibia in ("RG3_UNC.dcm", "RG3_J2KR.dcm"):
        assert verdicts[tibia].status == "warning" and "EXTREMITY" in verdicts[tibia].reason
    assert verdicts["orthanc_Issue44_Monochrome1-Jpeg.dcm"].status == "accepted"  # no body part tag
