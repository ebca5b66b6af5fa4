"""Training manifests: read, validate, and split by patient.

A manifest is a CSV file with one row per image::

    file,patient_id,age_years,sex,label            (or age_months; or t_score)
    images/0001.png,P001,67,F,osteopenia

``file`` is relative to the manifest's folder. An optional ``hand_crop`` column
(yes/no) marks files that already are the hand region stored at ingest (what
``osteo export-training`` writes): those are used whole, exactly as the model sees
them at screening, instead of being located and cropped again. ``label`` is normal / osteopenia /
osteoporosis (any case); a ``t_score`` column may replace it and is mapped to the
WHO category. All problems are collected and raised together as one
:class:`ManifestError` before any training starts, so a program fixes its CSV in
one pass instead of one error per run.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from training.who import T_SCORE_RANGE, WHO_CLASSES, who_class

MAX_AGE_YEARS = 130.0
SPLIT_SEED = 42
VALIDATION_FOLDS = 5  # one fold of five: an 80/20 split
MIN_PER_CLASS = VALIDATION_FOLDS
_SEXES = {"f": "F", "female": "F", "m": "M", "male": "M"}
_YES_NO = {"": False, "no": False, "false": False, "0": False, "yes": True, "true": True, "1": True}


class ManifestError(ValueError):
    """The manifest cannot be used; ``problems`` lists every (row, reason)."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"  {'row ' + str(row) if row is not None else 'manifest'}: {reason}" for row, reason in problems]
        super().__init__(f"{path}: {len(problems)} problem(s); nothing was trained.\n" + "\n".join(lines))


@dataclass(frozen=True)
class ManifestRow:
    """One validated image record; ``row`` is its line number in the CSV (header is 1)."""

    row: int
    path: Path
    patient_id: str
    age_months: float
    sex: str
    label: str
    hand_crop: bool = False  # the file is the stored hand region: use it whole

    @property
    def label_index(self) -> int:
        return WHO_CLASSES.index(self.label)


@dataclass(frozen=True)
class Manifest:
    """The validated rows of one manifest file."""

    path: Path
    rows: list[ManifestRow]

    def labels(self) -> np.ndarray:
        return np.array([r.label_index for r in self.rows], dtype=np.int64)

    def groups(self) -> np.ndarray:
        return np.array([r.patient_id for r in self.rows])

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels(), minlength=len(WHO_CLASSES))
        return {name: int(n) for name, n in zip(WHO_CLASSES, counts, strict=True)}

    def subset(self, indices: np.ndarray) -> Manifest:
        return Manifest(self.path, [self.rows[i] for i in indices])


def read_manifest(path: Path | str, min_per_class: int = MIN_PER_CLASS) -> Manifest:
    """Read and validate a manifest; raise :class:`ManifestError` listing all problems.

    ``min_per_class`` is the fewest images of each class that a stratified
    patient split can use; pass 1 when only evaluating.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(path, [(None, "file not found")])
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        missing = _missing_columns(columns)
        if missing:
            raise ManifestError(path, [(None, reason) for reason in missing])
        rows: list[ManifestRow] = []
        problems: list[tuple[int | None, str]] = []
        for line, raw in enumerate(reader, start=2):
            record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            parsed, reasons = _parse_row(line, record, path.parent)
            problems.extend((line, reason) for reason in reasons)
            if parsed is not None:
                rows.append(parsed)
    if not rows and not problems:
        problems.append((None, "no image rows"))
    problems.extend((None, reason) for reason in _class_count_problems(rows, min_per_class))
    if problems:
        raise ManifestError(path, problems)
    return Manifest(path, rows)


def _missing_columns(columns: set[str]) -> list[str]:
    missing = [f"missing column '{c}'" for c in ("file", "patient_id", "sex") if c not in columns]
    if not columns & {"age_months", "age_years"}:
        missing.append("missing column 'age_months' or 'age_years'")
    if not columns & {"label", "t_score"}:
        missing.append("missing column 'label' or 't_score'")
    return missing


def _parse_row(line: int, record: dict[str, str], base: Path) -> tuple[ManifestRow | None, list[str]]:
    """Validate one CSV record; return the row (or None) and every reason it is bad."""
    reasons: list[str] = []
    file_name = record.get("file", "")
    image_path = base / file_name
    if not file_name:
        reasons.append("empty 'file'")
    elif not image_path.is_file():
        reasons.append(f"image not found: {file_name}")
    patient_id = record.get("patient_id", "")
    if not patient_id:
        reasons.append("empty 'patient_id'")
    age_months = _age_months(record, reasons)
    sex = _SEXES.get(record.get("sex", "").lower())
    if sex is None:
        reasons.append(f"unknown sex {record.get('sex', '')!r} (use F or M)")
    label = _label(record, reasons)
    hand_crop = _YES_NO.get(record.get("hand_crop", "").lower())
    if hand_crop is None:
        reasons.append(f"hand_crop {record.get('hand_crop')!r} is not yes or no")
    if reasons:
        return None, reasons
    return ManifestRow(line, image_path, patient_id, age_months, sex, label, bool(hand_crop)), []  # type: ignore[arg-type]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _age_months(record: dict[str, str], reasons: list[str]) -> float:
    column, factor = ("age_months", 1.0) if record.get("age_months") else ("age_years", 12.0)
    value = _number(record.get(column, ""))
    if value is None:
        reasons.append(f"{column} {record.get(column, '')!r} is not a number")
        return math.nan
    months = value * factor
    if not 0.0 <= months <= MAX_AGE_YEARS * 12:
        reasons.append(f"{column} {value:g} is outside 0..{MAX_AGE_YEARS:g} years")
    return months


def _label(record: dict[str, str], reasons: list[str]) -> str:
    """The class from ``label`` or ``t_score``; when both are given they must agree."""
    label_text = record.get("label", "").lower()
    t_text = record.get("t_score", "")
    from_t: str | None = None
    if t_text:
        t_score = _number(t_text)
        low, high = T_SCORE_RANGE
        if t_score is None:
            reasons.append(f"t_score {t_text!r} is not a number")
        elif not low <= t_score <= high:
            reasons.append(f"t_score {t_score:g} is outside {low:g}..{high:g}")
        else:
            from_t = who_class(t_score)
    if label_text:
        if label_text not in WHO_CLASSES:
            reasons.append(f"unknown label {record.get('label')!r} (use {', '.join(WHO_CLASSES)})")
            return ""
        if from_t is not None and from_t != label_text:
            reasons.append(f"label {label_text!r} disagrees with t_score {t_text} ({from_t})")
        return label_text
    if from_t is None and not t_text:
        reasons.append("neither 'label' nor 't_score' is given")
    return from_t or ""


def _class_count_problems(rows: list[ManifestRow], min_per_class: int) -> list[str]:
    counts = {name: 0 for name in WHO_CLASSES}
    patients: dict[str, set[str]] = {name: set() for name in WHO_CLASSES}
    for row in rows:
        counts[row.label] += 1
        patients[row.label].add(row.patient_id)
    problems = []
    for name in WHO_CLASSES:
        if counts[name] < min_per_class:
            problems.append(f"class '{name}' has {counts[name]} image(s); at least {min_per_class} are needed")
        elif min_per_class > 1 and len(patients[name]) < 2:
            problems.append(f"class '{name}' has only one patient; a patient split needs at least 2")
    return problems


def split_by_patient(manifest: Manifest, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified 80/20 (train, validation) row indices with no patient in both.

    Uses one fold of :class:`StratifiedGroupKFold`, which keeps each patient's
    images together while matching the class shares as closely as the groups allow.
    """
    splitter = StratifiedGroupKFold(n_splits=VALIDATION_FOLDS, shuffle=True, random_state=seed)
    labels = manifest.labels()
    train_idx, val_idx = next(splitter.split(np.zeros(len(labels)), labels, manifest.groups()))
    return np.sort(train_idx), np.sort(val_idx)
