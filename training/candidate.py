"""A candidate model side by side with the active one, on the program's own DXA-confirmed cases.

Before an admin promotes a model the program needs to see, on the same people, whether
the candidate is better, by how much and how surely, and for whom. Both bundles are run
on one labelled manifest with their own preprocessing, temperature and referral
threshold (each is judged at the operating point it would ship with); figures come with
patient-bootstrap intervals from one shared set of resamples, and the differences in
Macro F1 and AUC with paired intervals (an interval that excludes 0 is a real change).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from screening.imaging import PreprocessParams
from training.intervals import Estimate, paired_difference, patient_resamples
from training.manifest import Manifest
from training.metrics import apply_temperature
from training.subgroups import GroupFigures, cohort_of, statistics, subgroup_figures

logger = logging.getLogger(__name__)

COMPARED = ("macro_f1", "auc")


@dataclass(frozen=True)
class ModelResult:
    """One bundle's calibrated probabilities on the manifest and its figures."""

    version: str
    threshold: float
    probs: np.ndarray
    groups: list[GroupFigures]


@dataclass(frozen=True)
class Comparison:
    candidate: ModelResult
    active: ModelResult
    differences: dict[str, Estimate]  # candidate - active, paired

    def to_dict(self) -> dict[str, Any]:
        def model(result: ModelResult) -> dict[str, Any]:
            return {"version": result.version, "threshold": result.threshold,
                    "groups": [g.to_dict() for g in result.groups]}

        return {"candidate": model(self.candidate), "active": model(self.active),
                "differences": {k: v.to_dict() for k, v in self.differences.items()}}


def run_bundle(bundle: Any, manifest: Manifest, batch_size: int, n_boot: int) -> ModelResult:
    """Predict ``manifest`` with ``bundle`` (its own preprocessing and temperature) and compute its figures."""
    from training.train import predict_manifest

    card = bundle.card
    raw = predict_manifest(bundle.model, manifest, PreprocessParams.from_dict(card.preprocessing), batch_size)
    probs = apply_temperature(raw, card.calibration_temperature)
    groups = subgroup_figures(manifest.labels(), probs, cohort_of(manifest), card.class_names,
                              card.refer_threshold, n_boot)
    return ModelResult(card.version, card.refer_threshold, probs, groups)


def compare(candidate: ModelResult, active: ModelResult, manifest: Manifest, class_names: list[str],
            n_boot: int) -> Comparison:
    """Paired differences (candidate - active) in the figures of :data:`COMPARED`.

    Each model keeps its own threshold, but Macro F1 and AUC do not depend on it, so
    the statistics of either model serve.
    """
    y = manifest.labels()
    resamples = patient_resamples(manifest.groups(), n_boot)
    figures = statistics(class_names, candidate.threshold)
    differences = {name: paired_difference(figures[name], y, candidate.probs, active.probs, resamples)
                   for name in COMPARED}
    return Comparison(candidate, active, differences)


def format_comparison(comparison: Comparison) -> str:
    """The side-by-side table ``osteo evaluate-candidate`` prints."""
    columns = ("macro_f1", "mcc", "auc", "sensitivity", "specificity", "ece")
    lines = [f"candidate {comparison.candidate.version} (refers at P(osteoporosis) >= "
             f"{comparison.candidate.threshold:.3f})",
             f"active    {comparison.active.version} (refers at P(osteoporosis) >= "
             f"{comparison.active.threshold:.3f})",
             "figures with 95 % patient-bootstrap intervals; calibration = slope / intercept of P(osteoporosis)",
             ""]
    header = f"{'group':<14}{'model':<10}{'people':>7}  " + "  ".join(f"{c:<22}" for c in columns) + "calibration"
    lines.append(header)
    for cand, act in zip(comparison.candidate.groups, comparison.active.groups, strict=True):
        for name, group in (("candidate", cand), ("active", act)):
            if not group.figures:
                cells = "too few people for figures"
            else:
                cells = "  ".join(f"{group.figures[c].text():<22}" for c in columns)
                if group.calibration_slope is not None and group.calibration_intercept is not None:
                    cells += f"{group.calibration_slope:.2f} / {group.calibration_intercept:+.2f}"
                else:
                    cells += "n/a"
            lines.append(f"{group.label:<14}{name:<10}{group.people:>7}  {cells}")
    lines.append("")
    for name, diff in comparison.differences.items():
        lines.append(f"difference in {name} (candidate - active, paired): {diff.text()}")
    return "\n".join(lines)
