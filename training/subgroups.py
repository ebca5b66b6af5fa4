"""The figures a program judges a model by, overall, by sex and by 10-year age band, with intervals.

One home for that list (Macro F1, MCC, macro AUC, sensitivity and specificity at the
referral threshold, calibration slope and intercept, ECE), used by ``osteo evaluate``'s
report and by ``osteo evaluate-candidate``, so a candidate and the active model are
always described by the same numbers. A model that is good on average can still miss
the osteoporosis of older women or over-refer men; the subgroup rows show that, and
their intervals say how little a small subgroup proves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef

from training.intervals import Estimate, Statistic, bootstrap, calibration_slope_intercept, patient_resamples
from training.manifest import Manifest
from training.metrics import expected_calibration_error, macro_auc

MIN_SUBGROUP = 10  # fewer people than this: the row is listed with its count only
AGE_BAND_YEARS = 10


@dataclass(frozen=True)
class Cohort:
    """Who each evaluated image belongs to: patient id, age in months and sex, one entry per image."""

    patient_ids: np.ndarray
    ages_months: np.ndarray
    sexes: np.ndarray


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one group (all, one sex, one age band)."""

    label: str
    images: int
    people: int
    figures: dict[str, Estimate] = field(default_factory=dict)
    calibration_slope: float | None = None
    calibration_intercept: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "images": self.images, "people": self.people,
                "figures": {k: v.to_dict() for k, v in self.figures.items()},
                "calibration_slope": self.calibration_slope, "calibration_intercept": self.calibration_intercept}


def cohort_of(manifest: Manifest) -> Cohort:
    return Cohort(manifest.groups(), np.array([r.age_months for r in manifest.rows], dtype=float),
                  np.array([r.sex for r in manifest.rows]))


def age_band(age_months: float) -> str:
    """The 10-year band of an age, e.g. ``"60–69"``."""
    low = int(age_months // 12 // AGE_BAND_YEARS * AGE_BAND_YEARS)
    return f"{low}–{low + AGE_BAND_YEARS - 1}"


def statistics(class_names: Sequence[str], threshold: float) -> dict[str, Statistic]:
    """The bootstrapped figures, each a function of (class indices, calibrated probabilities)."""
    labels = list(range(len(class_names)))
    positive = len(class_names) - 1  # osteoporosis, the last class

    def sensitivity(y: np.ndarray, p: np.ndarray) -> float | None:
        cases = y == positive
        return float((p[cases, positive] >= threshold).mean()) if cases.any() else None

    def specificity(y: np.ndarray, p: np.ndarray) -> float | None:
        others = y != positive
        return float((p[others, positive] < threshold).mean()) if others.any() else None

    return {
        "macro_f1": lambda y, p: float(f1_score(y, p.argmax(axis=1), labels=labels, average="macro",
                                                zero_division=0)),
        "mcc": lambda y, p: float(matthews_corrcoef(y, p.argmax(axis=1))) if len(np.unique(y)) > 1 else None,
        "auc": macro_auc,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "ece": lambda y, p: expected_calibration_error(y, p),
    }


def group_figures(label: str, y_true: np.ndarray, probs: np.ndarray, patient_ids: np.ndarray,
                  class_names: Sequence[str], threshold: float, n_boot: int) -> GroupFigures:
    """Figures with patient-bootstrap intervals for one group; counts only when it is too small."""
    people = len(np.unique(patient_ids))
    if people < MIN_SUBGROUP:
        return GroupFigures(label, len(y_true), people)
    resamples = patient_resamples(patient_ids, n_boot)
    positive = len(class_names) - 1
    slope, intercept = calibration_slope_intercept(y_true == positive, probs[:, positive])
    return GroupFigures(label, len(y_true), people, bootstrap(statistics(class_names, threshold), y_true, probs,
                                                              resamples), slope, intercept)


def subgroup_figures(y_true: np.ndarray, probs: np.ndarray, cohort: Cohort, class_names: Sequence[str],
                     threshold: float, n_boot: int = 1000) -> list[GroupFigures]:
    """All images, then each sex, then each 10-year age band (youngest first)."""
    def group(label: str, members: np.ndarray) -> GroupFigures:
        return group_figures(label, y_true[members], probs[members], cohort.patient_ids[members], class_names,
                             threshold, n_boot)

    everyone = np.ones(len(y_true), dtype=bool)
    rows = [group("all", everyone)]
    rows += [group(f"sex {sex}", cohort.sexes == sex) for sex in sorted(set(cohort.sexes.tolist()))]
    bands = np.array([age_band(a) for a in cohort.ages_months])
    rows += [group(f"age {band}", bands == band) for band in sorted(set(bands.tolist()), key=_band_start)]
    return rows


def _band_start(band: str) -> int:
    return int(band.split("–")[0])
