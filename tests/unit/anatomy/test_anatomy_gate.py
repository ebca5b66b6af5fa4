"""The shipped hand/wrist gate: phantoms of the demo are accepted, other parts refused with a reason.

Real-image tests read ``../shared/xray-samples`` and skip without it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from screening.anatomy.gate import DEFAULT_BUNDLE, GateVerdict, HandGate, load_gate
from screening.imaging import decode_image
from training.phantoms import write_dataset
from web.demo import SAMPLE_IMAGES, SAMPLE_SEED


@pytest.fixture(scope="module")
def gate() -> HandGate:
    return load_gate()


@pytest.fixture(scope="module")
def demo_phantoms(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The phantoms `make demo` screens (same count, seed, size and class balance)."""
    folder = tmp_path_factory.mktemp("demo-phantoms")
    write_dataset(folder, SAMPLE_IMAGES, seed=SAMPLE_SEED, size=512, class_balance=(0.5, 0.3, 0.2))
    return [decode_image(p.read_bytes()).pixels for p in sorted((folder / "images").glob("*.png"))]


def test_every_demo_phantom_is_accepted_with_a_hand_box(gate: HandGate, demo_phantoms: list[np.ndarray]) -> None:
    verdicts = [gate.judge(pixels) for pixels in demo_phantoms]
    assert len(verdicts) == SAMPLE_IMAGES
    refused = [(i, v.verdict, round(v.score, 3)) for i, v in enumerate(verdicts) if v.verdict != "accepted"]
    assert refused == []
    for pixels, verdict in zip(demo_phantoms, verdicts, strict=True):
        x0, y0, x1, y1 = verdict.hand_box
        assert 0 <= x0 < x1 <= pixels.shape[1] and 0 <= y0 < y1 <= pixels.shape[0]
        assert (x1 - x0) * (y1 - y0) >= 0.15 * pixels.size
        assert verdict.body_part == "hand_wrist"
        assert verdict.gate_version == gate.gate_version


def test_hand_box_is_in_the_input_arrays_coordinates(gate: HandGate, demo_phantoms: list[np.ndarray]) -> None:
    small = demo_phantoms[0]
    large = cv2.resize(small, (small.shape[1] * 3, small.shape[0] * 3), interpolation=cv2.INTER_LINEAR)
    box_small = np.array(gate.judge(small).hand_box)
    box_large = np.array(gate.judge(large).hand_box)
    assert np.abs(box_large - 3 * box_small).max() <= 0.03 * large.shape[0]


def test_blank_image_is_rejected_as_no_hand(gate: HandGate) -> None:
    verdict = gate.judge(np.zeros((600, 500), np.float32))
    assert verdict == GateVerdict("rejected", verdict.reason, None, 0.0, None, gate.gate_version)
    assert "no hand found" in verdict.reason


def test_gate_is_loaded_once_per_process_and_named_by_version(gate: HandGate) -> None:
    assert load_gate() is gate
    assert load_gate(DEFAULT_BUNDLE) is gate
    assert gate.gate_version.startswith("hand-gate-")


def test_missing_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no hand-gate bundle"):
        load_gate(tmp_path)


def test_card_records_data_attribution_metrics_and_thresholds() -> None:
    card = json.loads((DEFAULT_BUNDLE / "card.json").read_text())
    assert card["gate_version"] == f"hand-gate-{card['version']}"
    assert any("FracAtlas" in line and "CC BY 4.0" in line for line in card["attribution"])
    assert 0 < card["thresholds"]["warn"] <= card["thresholds"]["accept"] < 1
    data = card["training"]["data"]
    assert data["fracatlas/hand_wrist"]["train"] > 400 and data["fracatlas/forearm_elbow"]["train"] > 150
    assert data["phantom/hand_wrist"]["train"] > 0
    assert card["metrics"]["validation"]["n"] > 500
    assert "intended_use" in card and card["limitations"]
    assert (DEFAULT_BUNDLE / "model.keras").stat().st_size < 1_500_000


# --- real radiographs (skip without ../shared) -------------------------------------------


def test_real_rsna_hands_are_accepted(gate: HandGate, samples_dir: Path) -> None:
    files = sorted((samples_dir / "rsna-boneage-hand" / "images").glob("*.png"))[:10]
    verdicts = {f.name: gate.judge(decode_image(f.read_bytes()).pixels) for f in files}
    assert {name: v.verdict for name, v in verdicts.items()} == {name: "accepted" for name in verdicts}
    assert all(v.hand_box is not None for v in verdicts.values())


def test_real_knees_are_rejected_as_knees(gate: HandGate, samples_dir: Path) -> None:
    folder = samples_dir / "knee-osteoporosis-roboflow"
    with (folder / "manifest.csv").open() as fh:
        files = [folder / row["file"] for row in csv.DictReader(fh)]
    verdicts = [gate.judge(decode_image(f.read_bytes()).pixels) for f in files]
    assert len(verdicts) == 28
    rejected = [v for v in verdicts if v.verdict == "rejected"]
    assert len(rejected) >= 27  # the target: other body parts rejected >= 97 %
    assert all(
        v.hand_box is None and ("not look like a hand/wrist" in v.reason or "not a hand/wrist" in v.reason)
        for v in rejected
    )
    # hand-gate-1.1.0 rejects all 28 and names the knee for 23 (1.0.0: 24); the others
    # (square osteoporotic knee crops) get "does not look like a hand/wrist ... uncertain".
    named = [v for v in rejected if "knee" in v.reason and v.body_part == "leg_knee_foot"]
    assert len(named) >= 23


@pytest.mark.parametrize(
    ("name", "part"),
    [("RG1_J2KI.dcm", "chest"), ("orthanc_Issue44_Monochrome1-Jpeg.dcm", "chest"), ("RG2_RLE.dcm", "hip")],
)
def test_real_cr_chest_and_hip_are_rejected_naming_the_part(
    gate: HandGate, samples_dir: Path, name: str, part: str
) -> None:
    pixels = decode_image((samples_dir / "dicom-cr-radiographs" / name).read_bytes()).pixels
    verdict = gate.judge(pixels)
    assert verdict.verdict == "rejected"
    assert part in verdict.reason
