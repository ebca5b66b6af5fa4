"""The quality gate: is this file a usable hand/wrist radiograph?

Every rule gives a reason a clinician can act on. ``rejected`` files are not screened;
``warning`` files are screened and the warning is shown with the result.

Thresholds were checked against the real samples in ``shared/xray-samples`` (measured
with these same statistics over every file; ``tests/unit/imaging/test_imaging_quality.py``
keeps the outcome from regressing): all 122 RSNA hands and 9
GRAZPEDWRI wrists pass; the 11 dimmest RSNA hands (robust range 0.10-0.145, with a
gap up to the next at 0.18) get the low-contrast warning; the largest single-shade share seen is 0.74 (a hand on a black
background) and the largest pure black/white share is 0.75; every sample's
colourfulness is 0.0, including the RGB knee JPEGs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .decode import DEFAULT_MAX_PIXELS, DecodedImage, DecodeError, decode_image

Status = Literal["accepted", "warning", "rejected"]
_SEVERITY: dict[str, int] = {"accepted": 0, "warning": 1, "rejected": 2}

# A photograph scores 30+ (Hasler and Suesstrunk "moderately colourful" is 33); a gray
# radiograph saved as RGB JPEG scores 0-3 from chroma noise. Between: tinted scans.
COLOURFUL_REJECT = 25.0
COLOURFUL_WARN = 10.0
# Share of pixels in the single most common of 256 gray levels.
BLANK_SHARE = 0.95
# Share of pixels that are pure black or pure white.
CLIPPED_SHARE = 0.90
# Robust range (1st to 99th percentile) of gray values in [0, 1].
CONTRAST_REJECT = 0.04
CONTRAST_WARN = 0.15

PLAIN_RADIOGRAPH_MODALITIES = frozenset({"CR", "DX", "RG"})
_MODALITY_NAMES = {
    "CT": "computed tomography",
    "MR": "magnetic resonance",
    "US": "ultrasound",
    "NM": "nuclear medicine",
    "PT": "PET",
    "MG": "mammography",
    "XA": "angiography",
    "RF": "fluoroscopy",
    "OT": "other / secondary capture",
    "SC": "secondary capture",
    "IO": "intra-oral dental",
    "PX": "panoramic dental",
    "DOC": "scanned document",
    "SR": "structured report",
}
_HAND_WORDS = ("HAND", "WRIST", "FINGER", "THUMB", "FOREARM", "CARP", "METACARP", "PHALAN", "RADIUS", "ULNA")
_GENERAL_LIMB_WORDS = ("EXTREMITY", "EXTREMITIES", "UPPERLIMB", "ARM", "LIMB", "SKELETON", "BONE")
_OTHER_BODY_WORDS = (
    "CHEST", "THORAX", "LUNG", "RIB", "HIP", "PELVIS", "KNEE", "ANKLE", "FOOT", "TOE", "HEEL", "CALCANEUS",
    "LEG", "TIBIA", "FIBULA", "FEMUR", "SPINE", "LSPINE", "CSPINE", "TSPINE", "SKULL", "HEAD", "BRAIN",
    "FACE", "SINUS", "NECK", "ABDOMEN", "BREAST", "SHOULDER", "CLAVICLE", "HUMERUS", "ELBOW", "SACRUM",
    "COCCYX", "JAW", "MANDIBLE", "TEETH", "DENTAL", "HEART", "BOWEL", "KIDNEY",
)  # fmt: skip


@dataclass(frozen=True)
class QualityVerdict:
    """``status`` and a clinician-readable ``reason`` (empty when accepted)."""

    status: Status
    reason: str = ""


ACCEPTED = QualityVerdict("accepted", "")


def assess_quality(decoded: DecodedImage, min_side: int = 256) -> QualityVerdict:
    """Apply every rule; the verdict is the worst status, with the reasons for that status."""
    findings = [
        *_metadata_findings(decoded),
        _size_finding(decoded, min_side),
        _colour_finding(decoded),
        *_exposure_findings(decoded.pixels),
    ]
    return combine([finding for finding in findings if finding is not None])


def combine(findings: list[QualityVerdict]) -> QualityVerdict:
    """The worst status wins; its reasons are joined, the milder ones dropped as moot."""
    if not findings:
        return ACCEPTED
    worst = max(findings, key=lambda finding: _SEVERITY[finding.status]).status
    return QualityVerdict(worst, " ".join(f.reason for f in findings if f.status == worst))


def inspect_file(
    data: bytes,
    filename: str | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = 256,
) -> tuple[DecodedImage | None, QualityVerdict]:
    """Decode and judge one uploaded file. Never raises: a bad file fails alone.

    This is what the batch pipeline calls per file; every failure becomes a
    ``rejected`` verdict carrying the reason to record and show.
    """
    try:
        decoded = decode_image(data, filename, max_pixels=max_pixels)
    except DecodeError as exc:
        return None, QualityVerdict("rejected", exc.reason)
    except MemoryError:
        return None, QualityVerdict("rejected", "The image is too large to open with the memory available.")
    except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop the batch
        return None, QualityVerdict("rejected", f"The file could not be read as an image ({type(exc).__name__}).")
    try:
        return decoded, assess_quality(decoded, min_side=min_side)
    except Exception as exc:  # noqa: BLE001 - same rule for the checks themselves
        return decoded, QualityVerdict("rejected", f"The image could not be checked ({type(exc).__name__}).")


def _metadata_findings(decoded: DecodedImage) -> list[QualityVerdict | None]:
    return [_modality_finding(decoded.metadata.modality), _body_part_finding(decoded.metadata.body_part)]


def _modality_finding(modality: str | None) -> QualityVerdict | None:
    if not modality or modality in PLAIN_RADIOGRAPH_MODALITIES:
        return None
    name = _MODALITY_NAMES.get(modality)
    described = f"{modality} ({name})" if name else modality
    return QualityVerdict(
        "rejected",
        f"DICOM Modality says {described}; this screening needs a plain radiograph (CR or DX).",
    )


def _body_part_finding(body_part: str | None) -> QualityVerdict | None:
    """Accept hand/wrist words; reject other named body parts; warn on vague or unknown ones."""
    if not body_part:
        return None
    compact = "".join(ch for ch in body_part.upper() if ch.isalnum())
    if any(word in compact for word in _HAND_WORDS):
        return None
    if any(word in compact for word in _OTHER_BODY_WORDS):
        return QualityVerdict(
            "rejected",
            f"DICOM BodyPartExamined says {body_part}; this screening is for hand/wrist radiographs.",
        )
    return QualityVerdict(
        "warning",
        f"DICOM BodyPartExamined says {body_part}, which does not name the hand or wrist; "
        "check that the image shows a hand or wrist.",
    )


def _size_finding(decoded: DecodedImage, min_side: int) -> QualityVerdict | None:
    if min(decoded.width, decoded.height) >= min_side:
        return None
    return QualityVerdict(
        "rejected",
        f"The image is only {decoded.width} x {decoded.height} pixels; at least {min_side} pixels "
        "on the shorter side are needed to see bone structure. Upload the original, not a thumbnail.",
    )


def _colour_finding(decoded: DecodedImage) -> QualityVerdict | None:
    if decoded.colorfulness >= COLOURFUL_REJECT:
        return QualityVerdict(
            "rejected",
            "The image is in colour, so it looks like a photograph or screenshot rather than "
            "an X-ray. Upload the radiograph itself (DICOM or an exported gray PNG/JPEG).",
        )
    if decoded.colorfulness >= COLOURFUL_WARN:
        return QualityVerdict(
            "warning",
            "The image is tinted; check that it is an original radiograph and not a photograph of one.",
        )
    return None


def _exposure_findings(pixels: np.ndarray) -> list[QualityVerdict | None]:
    """Blank, clipped and low-contrast images, judged on a subsample of at most ~256 px a side."""
    step = max(1, max(pixels.shape) // 256)
    sample = pixels[::step, ::step]
    histogram = np.bincount(np.clip(sample * 255.0 + 0.5, 0, 255).astype(np.uint8).ravel(), minlength=256)
    share = histogram / sample.size
    if share.max() >= BLANK_SHARE:
        return [
            QualityVerdict(
                "rejected",
                f"The image is blank: {share.max():.0%} of it is a single shade of gray.",
            )
        ]
    clipped = share[0] + share[255]
    if clipped >= CLIPPED_SHARE:
        return [
            QualityVerdict(
                "rejected",
                f"The image is saturated: {clipped:.0%} of it is pure black or pure white, "
                "so bone detail is lost (badly over- or under-exposed, or a wrong window).",
            )
        ]
    low, high = np.percentile(sample, [1, 99])
    spread = float(high - low)
    if spread < CONTRAST_REJECT:
        return [
            QualityVerdict(
                "rejected",
                "The image has almost no contrast; bone cannot be told from soft tissue.",
            )
        ]
    if spread < CONTRAST_WARN:
        return [
            QualityVerdict(
                "warning",
                "The image has low contrast (very faint or very dark); results may be less reliable.",
            )
        ]
    return []
