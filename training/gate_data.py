"""The labelled images the hand gate is trained and validated on, and how they are split.

Sources (paths relative to the shared data folder beside the repository):

* ``fracatlas/``: FracAtlas (Abedeen et al., Sci Data 10:521, 2023, CC BY 4.0). Its
  ``leg``, ``hip`` and ``shoulder`` rows become leg_knee_foot, hip_pelvis and
  shoulder_chest. Its ``hand`` label is coarse (hand, wrist, forearm and elbow films),
  so every one of its 1,116 readable ``hand`` rows was looked at on contact sheets and
  relabelled by eye in ``training/gate_labels/fracatlas_hand_relabel.csv``:
  hand_wrist (the hand or wrist is the subject and the metacarpals are in view),
  forearm_elbow (the subject is the forearm shaft or the elbow; a hand at the film's
  edge does not make it a hand film), unclear (left out). Rows with ``truncated=1``
  are left out.
* ``xray-samples/``: RSNA bone-age hands and GRAZPEDWRI-DX wrists (hand_wrist), the
  Roboflow knees (leg_knee_foot, with their annotated knee box, from which
  :mod:`training.gate_shift` makes knee-joint close-ups) and the NEMA/Orthanc CR DICOMs
  (chest, hip, tibia).
* synthetic phantoms from ``training/phantoms.py`` (hand_wrist), so that the demo
  archive, which screens phantoms, is accepted.

``../shared/xray-holdout`` is never read here: it is for the final evaluation only.

Splits are by a hash of a stable key (FracAtlas image id, RSNA id, the knee's original
file name), so a file always lands on the same side whatever the
order or the seed, and the Roboflow copies of one knee share a side. The nine GRAZPEDWRI-DX
wrists (nine patients) are split by their sorted order, every third validating. The CR DICOMs hold
only three distinct NEMA pictures (two in two transfer syntaxes): those train, and the
Orthanc chest validates.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: The classes the gate tells apart. Index 0 is the one it accepts.
GATE_CLASSES: tuple[str, ...] = ("hand_wrist", "forearm_elbow", "leg_knee_foot", "hip_pelvis", "shoulder_chest")

RELABEL_CSV = Path(__file__).parent / "gate_labels" / "fracatlas_hand_relabel.csv"
_FRACATLAS_PART = {"leg": "leg_knee_foot", "hip": "hip_pelvis", "shoulder": "shoulder_chest"}
# The CR DICOMs: file -> (class, split). Only three distinct NEMA pictures exist (RG2_RLE and
# RG3_J2KR repeat RG2_UNC and RG3_UNC), so they train and the Orthanc chest validates.
_DICOMS = {
    "RG1_J2KI.dcm": ("shoulder_chest", "train"),
    "RG2_UNC.dcm": ("hip_pelvis", "train"),
    "RG2_RLE.dcm": ("hip_pelvis", "train"),
    "RG3_UNC.dcm": ("leg_knee_foot", "train"),
    "RG3_J2KR.dcm": ("leg_knee_foot", "train"),
    "orthanc_Issue44_Monochrome1-Jpeg.dcm": ("shoulder_chest", "val"),
}


@dataclass(frozen=True)
class Example:
    """One labelled file: where it is, its gate class, its source and which split it is in.

    ``focus``: an annotated region of interest (x0, y0, x1, y1) as shares of the width and
    height, when the source has one (the Roboflow knees' YOLO knee box).
    """

    path: Path
    label: str
    source: str
    split: str  # "train" | "val"
    focus: tuple[float, float, float, float] | None = None

    @property
    def key(self) -> str:
        """A stable name for the file, independent of where the shared folder is."""
        return f"{self.source}:{'/'.join(self.path.parts[-3:])}"


def split_of(key: str, val_fraction: float) -> str:
    """``val`` for a stable ``val_fraction`` of keys, by hash; independent of order and seed."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return "val" if digest / 2**64 < val_fraction else "train"


def fracatlas_examples(root: Path, val_fraction: float = 0.2) -> Iterator[Example]:
    relabel = {row["image_id"]: row["gate_label"] for row in csv.DictReader(RELABEL_CSV.open())}
    with (root / "dataset.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["truncated"] == "1":
                continue
            image_id = row["image_id"]
            if row["body_part"] == "hand":
                label = relabel.get(image_id, "unclear")
                if label == "unclear":
                    continue
            else:
                label = _FRACATLAS_PART[row["body_part"]]
            yield Example(
                root / "images" / image_id, label, "fracatlas", split_of(f"fracatlas:{image_id}", val_fraction)
            )


def sample_examples(root: Path, val_fraction: float = 0.3) -> Iterator[Example]:
    """The ``xray-samples`` sets; a larger validation share since they are few and varied."""
    rsna = root / "rsna-boneage-hand"
    with (rsna / "manifest.csv").open() as fh:
        for row in csv.DictReader(fh):
            name = Path(row["file"]).name
            yield Example(rsna / row["file"], "hand_wrist", "rsna", split_of(f"rsna:{name}", val_fraction))
    graz = root / "grazpedwri-dx-osteopenia-wrist"
    with (graz / "manifest.csv").open() as fh:
        # Nine films of nine patients, the only tightly collimated wrists: every third validates.
        for index, row in enumerate(sorted(csv.DictReader(fh), key=lambda r: r["file"])):
            split = "val" if index % 3 == 2 else "train"
            yield Example(graz / row["file"], "hand_wrist", "grazpedwri", split)
    knees = root / "knee-osteoporosis-roboflow"
    with (knees / "manifest.csv").open() as fh:
        for row in csv.DictReader(fh):
            key = f"knee:{row['original_name']}"
            focus = yolo_box(knees / row["split"] / row["yolo_label_file"])
            yield Example(knees / row["file"], "leg_knee_foot", "knee", split_of(key, val_fraction), focus)
    dicoms = root / "dicom-cr-radiographs"
    for name, (label, split) in _DICOMS.items():
        yield Example(dicoms / name, label, "cr-dicom", split)


def yolo_box(label_file: Path) -> tuple[float, float, float, float] | None:
    """The first box of a YOLO label file (class cx cy w h, shares of the image) as (x0, y0, x1, y1) shares."""
    if not label_file.is_file():
        return None
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5:
            cx, cy, w, h = (float(v) for v in parts[1:])
            return (max(0.0, cx - w / 2), max(0.0, cy - h / 2), min(1.0, cx + w / 2), min(1.0, cy + h / 2))
    return None


def collect(shared: Path) -> list[Example]:
    """Every example under ``shared`` (FracAtlas + xray-samples), in a fixed order."""
    examples = [*fracatlas_examples(shared / "fracatlas"), *sample_examples(shared / "xray-samples")]
    missing = [example.path for example in examples if not example.path.exists()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} training files are missing, e.g. {missing[0]}")
    logger.info("collected %d real examples", len(examples))
    return examples
