"""Uncertainty for evaluation figures: patient-level bootstrap intervals and calibration slope.

A program's own DXA-confirmed set is small (tens to a few hundred people), so a
point estimate of sensitivity or AUC alone invites decisions on noise. Intervals
come from a percentile bootstrap that resamples *patients*, not images: two films
of one patient are not independent evidence, and resampling images would make the
intervals too narrow.

Calibration slope and intercept are the usual pair for a risk model's binary output
(here P(osteoporosis) against DXA osteoporosis): the slope is the coefficient of a
logistic regression of the outcome on logit(p) (1 = ideal; < 1 means the model is
overconfident), the intercept is calibration-in-the-large, the intercept of that
regression with the slope fixed at 1 (0 = ideal; > 0 means the model predicts too few
cases).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

logger = logging.getLogger(__name__)

N_BOOTSTRAP = 1000
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 20261127
_EPS = 1e-6

Statistic = Callable[[np.ndarray, np.ndarray], float | None]


@dataclass(frozen=True)
class Estimate:
    """A figure with its bootstrap interval; ``low``/``high`` are None when it could not be resampled."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "low": self.low, "high": self.high}

    def text(self, digits: int = 3) -> str:
        """``0.812 (0.741–0.870)``, or ``n/a`` when the figure is undefined."""
        if self.value is None:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def patient_resamples(groups: np.ndarray, n_boot: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> list[np.ndarray]:
    """Index arrays of ``n_boot`` bootstrap samples drawn by patient (all images of a drawn patient).

    One list is shared by every statistic (and by both models of a comparison), so
    their intervals come from the same resamples and a paired difference is exact.
    """
    patients, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == p) for p in range(len(patients))]
    rng = np.random.default_rng(seed)
    return [np.concatenate([members[p] for p in rng.integers(0, len(patients), len(patients))])
            for _ in range(n_boot)]


def bootstrap(statistics: Mapping[str, Statistic], y_true: np.ndarray, probs: np.ndarray,
              resamples: list[np.ndarray], confidence: float = CONFIDENCE) -> dict[str, Estimate]:
    """Each statistic on the full data, with the percentile interval over ``resamples``.

    A resample on which a statistic is undefined (a class missing, say) is skipped
    for that statistic; with fewer than half the resamples defined no interval is given.
    """
    tail = (1.0 - confidence) / 2.0
    out: dict[str, Estimate] = {}
    for name, statistic in statistics.items():
        value = statistic(y_true, probs)
        samples = [s for s in (statistic(y_true[idx], probs[idx]) for idx in resamples) if s is not None]
        if value is None or len(samples) < max(1, len(resamples) // 2):
            out[name] = Estimate(value)
            continue
        low, high = np.quantile(np.asarray(samples, dtype=float), [tail, 1.0 - tail])
        out[name] = Estimate(float(value), float(low), float(high))
    return out


def paired_difference(statistic: Statistic, y_true: np.ndarray, candidate: np.ndarray, active: np.ndarray,
                      resamples: list[np.ndarray], confidence: float = CONFIDENCE) -> Estimate:
    """``statistic(candidate) - statistic(active)`` on the same people, with its paired interval."""
    def difference(idx: np.ndarray) -> float | None:
        a, b = statistic(y_true[idx], candidate[idx]), statistic(y_true[idx], active[idx])
        return None if a is None or b is None else a - b

    value = difference(np.arange(len(y_true)))
    samples = [d for d in (difference(idx) for idx in resamples) if d is not None]
    if value is None or len(samples) < max(1, len(resamples) // 2):
        return Estimate(value)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.asarray(samples), [tail, 1.0 - tail])
    return Estimate(float(value), float(low), float(high))


def calibration_slope_intercept(outcome: np.ndarray, p: np.ndarray) -> tuple[float | None, float | None]:
    """(slope, calibration-in-the-large) of probabilities ``p`` for a 0/1 ``outcome``.

    None for both when the outcome has a single value (nothing to calibrate against).
    """
    outcome = np.asarray(outcome, dtype=float)
    if outcome.min(initial=1.0) == outcome.max(initial=0.0) or len(outcome) < 2:
        return None, None
    lp = np.log(np.clip(p, _EPS, 1 - _EPS) / np.clip(1 - p, _EPS, 1 - _EPS))

    def nll(params: np.ndarray, slope_fixed: float | None) -> float:
        intercept = params[0]
        slope = params[1] if slope_fixed is None else slope_fixed
        z = intercept + slope * lp
        return float(np.sum(np.logaddexp(0.0, z) - outcome * z))

    full = minimize(nll, x0=np.array([0.0, 1.0]), args=(None,), method="BFGS")
    large = minimize(nll, x0=np.array([0.0]), args=(1.0,), method="BFGS")
    slope, intercept = float(full.x[1]), float(large.x[0])
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        logger.warning("calibration fit did not converge (n=%d)", len(outcome))
        return None, None
    return slope, intercept
