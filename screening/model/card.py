"""The model card: what a bundle's model is, how to feed it, and what it is for.

The card travels with the weights (``card.json`` beside ``model.keras``) so a
report can always name the exact version that produced it and the preprocessing
that was used to train it. Field problems raise ``BundleError`` naming the field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from screening.vocabulary import CLASS_NAMES, DISCLAIMER

SCHEMA_VERSION = 1
REFER_THRESHOLD_KEY = "refer_osteoporosis_probability"
DEFAULT_INTENDED_USE = (
    "Screening aid for low bone density from routine adult hand/wrist X-rays, to prioritise "
    f"people for DXA. {DISCLAIMER}"
)
DEFAULT_LIMITATIONS = (
    "Cannot rule out low bone density.",
    "WHO T-score categories are validated for postmenopausal women and men aged 50 and over only.",
    "Performance outside the population and scanners of the training data is unknown.",
)


class BundleError(Exception):
    """A model bundle is missing, corrupt or incompatible with this software."""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _checked_preprocessing(values: dict[str, Any] | None, input_size: int) -> dict[str, Any]:
    """The card's preprocessing as ``PreprocessParams`` would read it back (default: defaults at input_size)."""
    from screening.imaging import PreprocessParams

    try:
        params = PreprocessParams(size=input_size) if values is None else PreprocessParams.from_dict(values)
    except (TypeError, ValueError) as error:
        raise BundleError(f"invalid model card: preprocessing {values!r}: {error}") from None
    return params.to_dict()


@dataclass
class ModelCard:
    """Everything a bundle says about its model; ``version`` is filled in on save."""

    name: str
    backbone: str
    input_size: int
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    preprocessing: dict[str, Any] | None = None  # None: PreprocessParams defaults at input_size
    calibration_temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=lambda: {REFER_THRESHOLD_KEY: 0.5})
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    intended_use: str = DEFAULT_INTENDED_USE
    limitations: list[str] = field(default_factory=lambda: list(DEFAULT_LIMITATIONS))
    synthetic_demo: bool = False
    created_at: str = field(default_factory=_now)
    schema_version: int = SCHEMA_VERSION
    version: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check field types and internal consistency; raise ``BundleError`` otherwise."""
        _expect(isinstance(self.schema_version, int), "schema_version must be an integer")
        if self.schema_version != SCHEMA_VERSION:
            raise BundleError(
                f"unsupported model card schema_version {self.schema_version}; "
                f"this software reads schema_version {SCHEMA_VERSION}"
            )
        _expect(isinstance(self.name, str) and bool(self.name), "name must be a non-empty string")
        _expect(isinstance(self.backbone, str) and bool(self.backbone), "backbone must be a non-empty string")
        _expect(isinstance(self.input_size, int) and self.input_size > 0,
                "input_size must be a positive integer")
        _expect(isinstance(self.class_names, list) and len(self.class_names) >= 2
                and all(isinstance(c, str) for c in self.class_names),
                "class_names must be a list of at least two strings")
        _expect(self.preprocessing is None or isinstance(self.preprocessing, dict),
                "preprocessing must be an object")
        self.preprocessing = _checked_preprocessing(self.preprocessing, self.input_size)
        size = self.preprocessing.get("size")
        _expect(size == self.input_size,
                f"preprocessing size {size!r} differs from input_size {self.input_size}")
        temperature = self.calibration_temperature
        _expect(isinstance(temperature, (int, float)) and temperature > 0,
                "calibration_temperature must be a positive number")
        _expect(isinstance(self.thresholds, dict)
                and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in self.thresholds.values()),
                "thresholds must map names to probabilities in [0, 1]")
        _expect(isinstance(self.synthetic_demo, bool), "synthetic_demo must be true or false")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        """Build a card from parsed JSON; unknown or missing fields are a ``BundleError``."""
        _expect(isinstance(data, dict), "card.json must hold a JSON object")
        if data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise BundleError(
                f"unsupported model card schema_version {data.get('schema_version')!r}; "
                f"this software reads schema_version {SCHEMA_VERSION}"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        _expect(not unknown, f"card.json has unknown fields {unknown}")
        try:
            return cls(**data)
        except TypeError as error:
            raise BundleError(f"card.json is incomplete: {error}") from None

    def canonical_json(self, include_version: bool = True) -> bytes:
        """Deterministic JSON (sorted keys, no spaces): what the version hash covers."""
        data = self.to_dict()
        if not include_version:
            data.pop("version")
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    @property
    def refer_threshold(self) -> float:
        """P(osteoporosis) at or above which a person is put on the referral list."""
        return float(self.thresholds.get(REFER_THRESHOLD_KEY, 0.5))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise BundleError(f"invalid model card: {message}")
