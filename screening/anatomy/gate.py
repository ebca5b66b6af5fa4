"""The hand/wrist gate: is this radiograph a hand or wrist fit for screening, and where is the hand?

Every image is judged on its pixels, tags or not (PNG and JPEG uploads carry no tags,
and DICOM BodyPartExamined is often empty or wrong). A small CNN trained on real
radiographs (FracAtlas, RSNA, GRAZPEDWRI-DX, knees, CR DICOMs) and on the synthetic
phantoms tells hand/wrist films from forearm/elbow, leg/knee/foot, hip/pelvis and
shoulder/chest films; :mod:`screening.anatomy.locate` finds the hand so that the
film border, collimation and side markers stay out of the crop. The rule it applies
is written in ``docs/intended-use.md``; the bundle and its card live in ``models/gate``
(``training/gate.py`` builds them).

Pure: no database, no object store. TensorFlow is imported when a gate is loaded,
not when this module is, and :func:`load_gate` loads each bundle once per process.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from screening.anatomy.locate import locate_hand
from screening.anatomy.views import gate_views
from screening.config import PROJECT_ROOT
from screening.imaging.preprocess import PreprocessParams

logger = logging.getLogger(__name__)

Verdict = Literal["accepted", "warning", "rejected"]
Box = tuple[int, int, int, int]

GATE_VERSION_PREFIX = "hand-gate-"
DEFAULT_BUNDLE = PROJECT_ROOT / "models" / "gate"

INTENDED_USE = (
    "Decide, before screening, whether an uploaded radiograph is a hand/wrist film fit for OSTEO AI "
    "(PA or oblique hand; wrist views that show the metacarpals) and locate the hand. Runs on every "
    "image where ingest runs. It is a filter for a screening aid, not a diagnostic device; it does not "
    "judge fractures, age or image quality (the quality gate does)."
)
LIMITS = (
    (
        "Knows five groups: hand_wrist, forearm_elbow, leg_knee_foot, hip_pelvis, shoulder_chest. Other "
        "parts (spine, skull, abdomen) were never seen in training: they are rejected only because they do "
        "not look like a hand, and the part it names for them can be wrong."
    ),
    "Finger-only views were not in the training data; they may be accepted or rejected (see docs/intended-use.md).",
    (
        "Trained mostly on FracAtlas (three hospitals in Bangladesh), RSNA and GRAZPEDWRI-DX children's hands and "
        "synthetic phantoms; adult hands from other hospitals and scanners are few. Other acquisition styles "
        "(close-ups of one joint, dark letterboxed frames, small recompressed films, other display processing, "
        "limbs up to 45 degrees in their frame) are imitated on those films by augmentation, not learned from "
        "real films of other hospitals."
    ),
    "Thresholds were chosen on a validation split of the training sources, not on the hold-out set.",
)

_PHRASES = {
    "hand_wrist": "a hand/wrist",
    "forearm_elbow": "a forearm or elbow",
    "leg_knee_foot": "a leg, knee, ankle or foot",
    "hip_pelvis": "a hip or pelvis",
    "shoulder_chest": "a shoulder or chest",
}
# Below this probability for its best other class, the gate names the part as uncertain.
_SURE_OF_PART_AT = 0.5


@dataclass(frozen=True)
class GateVerdict:
    """What the gate decided about one image.

    ``score`` is P(hand_wrist) from the classifier, 0.0 when no object was found.
    ``hand_box`` is (x0, y0, x1, y1), x1/y1 exclusive, in the input array's pixel
    coordinates, for accepted and warning images; None for rejected ones.
    """

    verdict: Verdict
    reason: str
    body_part: str | None
    score: float
    hand_box: Box | None
    gate_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "body_part": self.body_part,
            "score": round(self.score, 4),
            "hand_box": list(self.hand_box) if self.hand_box else None,
            "gate_version": self.gate_version,
        }


class HandGate:
    """A loaded gate bundle. ``judge`` is thread-safe and keeps no state between images."""

    def __init__(self, bundle: Path) -> None:
        import tensorflow as tf  # heavy: imported only where a gate is loaded
        from keras.saving import load_model

        card = json.loads((bundle / "card.json").read_text())
        self.card = card
        self.classes: tuple[str, ...] = tuple(card["classes"])
        if self.classes[0] != card.get("accepted_class", "hand_wrist"):
            raise ValueError(f"{bundle}: the accepted class must come first, got {self.classes}")
        self.gate_version: str = card["gate_version"]
        self.params = PreprocessParams.from_dict(card["inputs"]["preprocess"])
        self.accept_at = float(card["thresholds"]["accept"])
        self.warn_at = float(card["thresholds"]["warn"])
        model = load_model(bundle / "model.keras", compile=False)
        size = self.params.size
        self._infer = tf.function(
            lambda x: tf.nn.softmax(model(x, training=False)),
            input_signature=[tf.TensorSpec((None, size, size, 1), tf.float32)],
        )

    def probabilities(self, model_input: np.ndarray) -> np.ndarray:
        """Class probabilities for one (size, size) model input."""
        batch = np.asarray(model_input, dtype=np.float32)[np.newaxis, :, :, np.newaxis]
        return np.asarray(self._infer(batch))[0]

    def judge(self, pixels: np.ndarray) -> GateVerdict:
        """Judge one decoded radiograph (2-D float32 in [0, 1], bone bright)."""
        views = gate_views(pixels, self.params)
        work_box = locate_hand(views.work)
        if work_box is None:
            reason = "no hand found: the image shows no body part"
            return GateVerdict("rejected", reason, None, 0.0, None, self.gate_version)
        probs = self.probabilities(views.model_input)
        score = float(probs[0])
        other = int(np.argmax(probs[1:])) + 1
        other_part = self.classes[other]
        if score >= self.accept_at:
            box = _to_input(work_box, views.scale, pixels.shape)
            reason = "looks like a hand/wrist radiograph"
            return GateVerdict("accepted", reason, "hand_wrist", score, box, self.gate_version)
        if score >= self.warn_at:
            box = _to_input(work_box, views.scale, pixels.shape)
            reason = (
                f"may not be a hand/wrist radiograph (it could be {_PHRASES.get(other_part, other_part)} film); "
                "check that the metacarpals are in view before relying on the result"
            )
            return GateVerdict("warning", reason, "hand_wrist", score, box, self.gate_version)
        part = _PHRASES.get(other_part, other_part)
        if float(probs[other]) >= _SURE_OF_PART_AT:
            reason = f"looks like {part} radiograph, not a hand/wrist"
        else:
            reason = f"does not look like a hand/wrist radiograph; closest is {part} film, but the part is uncertain"
        return GateVerdict("rejected", reason, other_part, score, None, self.gate_version)


def _to_input(box: Box, scale: float, shape: tuple[int, ...]) -> Box:
    """A working-copy box in the input array's pixel coordinates, clipped to the image."""
    height, width = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = (v / scale for v in box)
    return (
        max(0, int(np.floor(x0))),
        max(0, int(np.floor(y0))),
        min(width, int(np.ceil(x1))),
        min(height, int(np.ceil(y1))),
    )


_LOADED: dict[Path, HandGate] = {}
_LOCK = threading.Lock()


def load_gate(path: Path | None = None) -> HandGate:
    """The gate bundle at ``path`` (default: the shipped ``models/gate``), loaded once per process."""
    bundle = Path(path or DEFAULT_BUNDLE).resolve()
    with _LOCK:
        gate = _LOADED.get(bundle)
        if gate is None:
            if not (bundle / "card.json").is_file() or not (bundle / "model.keras").is_file():
                raise FileNotFoundError(f"no hand-gate bundle at {bundle} (expected card.json and model.keras)")
            gate = _LOADED[bundle] = HandGate(bundle)
            logger.info("loaded hand gate %s from %s", gate.gate_version, bundle)
        return gate
